/**
 * `legionctl completion zsh` in a real zsh (UDP 45020-45023 on loopback): sourced, it defines the
 * completion function and registers it with zsh's completion system; and in an interactive zsh
 * driven through a pseudo-terminal (zpty), TAB offers the subcommands and the legion names of a
 * running legiond, as the bash test checks for bash.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab, LEGIONCTL, legionctl, ROOT } from '../helpers/procs.js';

const DRIVER = join(ROOT, 'test', 'helpers', 'zsh-complete.zsh');

let lab: Lab | null = null;
afterEach(async () => {
  await lab?.cleanup();
  lab = null;
});

function requireZsh(): void {
  const r = spawnSync('zsh', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error('zsh is missing: the zsh completion test needs it (.ci/run installs it)');
}

describe('legionctl completion zsh', () => {
  it('defines and registers _legionctl, and TAB offers subcommands and the daemon legions', async () => {
    requireZsh();
    lab = new Lab();
    const sock = lab.path('c.sock');
    const file = lab.path('legiond.yaml');
    writeFileSync(
      file,
      [
        `control: ${sock}`,
        'legions:',
        ...['web', 'db'].flatMap((name, i) => [
          `  - name: ${name}`,
          `    bind: 127.0.0.1:${45020 + 2 * i}`,
          `    peers: [127.0.0.1:${45021 + 2 * i}]`,
          '    insecure: true',
        ]),
      ].join('\n'),
    );
    const n = lab.legiond('n1', ['--config', file]);
    await n.ready();
    // the completion calls legionctl by the name on the command line, as a shell user would
    const bin = lab.path('bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'legionctl'), `#!/bin/sh\nexec "${process.execPath}" "${LEGIONCTL}" "$@"\n`);
    chmodSync(join(bin, 'legionctl'), 0o755);
    const script = legionctl(['completion', 'zsh']);
    expect(script.code).toBe(0);
    const scriptFile = lab.path('_legionctl');
    writeFileSync(scriptFile, script.stdout);
    const env = { ...process.env, PATH: `${bin}:${process.env.PATH}` };

    // sourced after compinit: the function exists and zsh's completion system knows it
    const sourced = spawnSync(
      'zsh',
      [
        '-f',
        '-c',
        'autoload -U compinit && compinit -u -D && source "$1" && whence -w _legionctl && print -r -- "$_comps[legionctl]"',
        'zsh',
        scriptFile,
      ],
      { encoding: 'utf8', env, timeout: 15_000 },
    );
    expect(sourced.status, sourced.stderr).toBe(0);
    expect(sourced.stdout).toBe('_legionctl: function\n_bash_complete -F _legionctl\n');

    const tab = (line: string) => {
      const r = spawnSync('zsh', ['-f', DRIVER, scriptFile, line], {
        encoding: 'utf8',
        env,
        timeout: 40_000,
      });
      expect(r.status, `${r.stderr}\n${r.stdout}`).toBe(0);
      const words = new Set<string>();
      for (const m of r.stdout.matchAll(/<<([^>]*)>>/g))
        for (const w of m[1]!.split(' ')) if (w) words.add(w);
      return [...words].sort();
    };
    expect(tab(`legionctl --control ${sock} members `)).toEqual(['db', 'web']);
    expect(tab(`legionctl --control ${sock} valor get w`)).toEqual(['web']);
    expect(tab('legionctl st')).toEqual(['status', 'stepdown']);
    expect(tab('legionctl completion ')).toEqual(['bash', 'zsh']);
  }, 120_000);
});
