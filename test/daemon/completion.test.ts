/**
 * `legionctl completion bash`, sourced in a real bash, completes the legions of a running legiond
 * (UDP 48730-48733 on loopback) and the subcommands.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab, LEGIONCTL, legionctl } from '../helpers/procs.js';

let lab: Lab | null = null;
afterEach(async () => {
  await lab?.cleanup();
  lab = null;
});

function requireBash(): void {
  const r = spawnSync('bash', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error('bash is missing: the completion test needs it (.ci/run installs it)');
}

describe('legionctl completion', () => {
  it('bash completes subcommands, and legion names from the running daemon', async () => {
    requireBash();
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
          `    bind: 127.0.0.1:${48730 + 2 * i}`,
          `    peers: [127.0.0.1:${48731 + 2 * i}]`,
          '    insecure: true',
        ]),
      ].join('\n'),
    );
    const n = lab.legiond('n1', ['--config', file]);
    await n.ready();
    // the script calls legionctl by the name on the command line, as a shell user would
    const bin = lab.path('legionctl');
    writeFileSync(bin, `#!/bin/sh\nexec "${process.execPath}" "${LEGIONCTL}" "$@"\n`);
    chmodSync(bin, 0o755);
    const script = legionctl(['completion', 'bash']);
    expect(script.code).toBe(0);
    writeFileSync(lab.path('completion.bash'), script.stdout);

    const complete = (words: string[]) => {
      const r = spawnSync(
        'bash',
        [
          '-c',
          `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _legionctl; printf '%s\\n' "\${COMPREPLY[@]}"`,
          'complete',
          lab!.path('completion.bash'),
          ...words,
        ],
        {
          encoding: 'utf8',
          timeout: 15_000,
          env: { ...process.env, PATH: `${lab!.path('')}:${process.env.PATH}` },
        },
      );
      expect(r.status, r.stderr).toBe(0);
      return r.stdout.split('\n').filter(Boolean).sort();
    };
    expect(complete(['legionctl', '--control', sock, 'members', ''])).toEqual(['db', 'web']);
    expect(complete(['legionctl', '--control', sock, 'valor', 'get', 'w'])).toEqual(['web']);
    expect(complete(['legionctl', `--control=${sock}`, 'stepdown', 'd'])).toEqual(['db']);
    expect(complete(['legionctl', 'st'])).toEqual(['status', 'stepdown']);
    expect(complete(['legionctl', 'scroll', ''])).toEqual(['get', 'set']);
    expect(complete(['legionctl', 'completion', ''])).toEqual(['bash', 'zsh']);
    // no daemon behind the socket: nothing to offer, and no error on the terminal
    expect(complete(['legionctl', '--control', lab.path('none.sock'), 'leave', ''])).toEqual([]);

    const zsh = legionctl(['completion', 'zsh']);
    expect(zsh.code).toBe(0);
    expect(zsh.stdout).toMatch(/^#compdef legionctl\n/);
    expect(zsh.stdout).toContain('bashcompinit');
    const fish = legionctl(['completion', 'fish']);
    expect(fish.code).toBe(2);
    expect(fish.stderr).toContain('ERR_USAGE');
  }, 30_000);
});
