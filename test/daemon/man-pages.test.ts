/**
 * The man pages built by `npm run build` (docs/man/*.md through marked-man into man/), rendered
 * with man-db's `man -l`: each has its sections, every option `--help` prints is in its page,
 * every key of the config schema is in legiond.yaml(5), and `npm pack` ships them.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.js';
import { LEGIONCTL, LEGIOND, ROOT, requireBuild } from '../helpers/procs.js';

function requireMan(): void {
  const r = spawnSync('man', ['--version'], { encoding: 'utf8' });
  if (r.status !== 0)
    throw new Error('man (man-db) is missing: the man page test needs it (.ci/run installs it)');
}

/** the page as a reader sees it, on one long line per paragraph so nothing is hyphenated away */
function render(page: string): string {
  requireBuild();
  requireMan();
  const file = join(ROOT, 'man', page);
  if (!existsSync(file)) throw new Error(`${file} is missing: "npm run build" builds the man pages`);
  const r = spawnSync('man', ['-l', file], {
    encoding: 'utf8',
    env: { ...process.env, MANWIDTH: '2000', MAN_KEEP_FORMATTING: '', LANG: 'C.UTF-8' },
    timeout: 20_000,
  });
  expect(r.status, r.stderr).toBe(0);
  expect(r.stderr).toBe('');
  // overstrike bold and underline, should a pager setting leave them in
  return r.stdout.replace(new RegExp(`.${String.fromCharCode(8)}`, 'g'), '');
}

function sections(text: string): string[] {
  return [...text.matchAll(/^([A-Z][A-Z -]+)$/gm)].map((m) => m[1]!.trim());
}

/** `--flag` and `-f` of a commander help text */
function helpOptions(bin: string, args: string[]): string[] {
  const r = spawnSync(process.execPath, [bin, ...args, '--help'], { encoding: 'utf8', timeout: 10_000 });
  expect(r.status, r.stderr).toBe(0);
  const opts: string[] = [];
  for (const line of r.stdout.split('\n')) {
    const m = /^\s+((?:-\w, )?--[\w-]+)/.exec(line);
    if (m) opts.push(...m[1]!.split(', '));
  }
  expect(opts.length).toBeGreaterThan(0);
  return opts;
}

/** every key of the config schema: `http.listen`, `legions[].cron[].schedule`, ... */
function schemaKeys(): string[] {
  const out: string[] = [];
  const walk = (s: unknown, path: string): void => {
    const def = (s as { _zod?: { def: Record<string, unknown> } })._zod?.def;
    if (!def) return;
    if (def.type === 'pipe') walk(def.in, path);
    else if (['optional', 'default', 'nullable', 'prefault'].includes(def.type as string))
      walk(def.innerType, path);
    else if (def.type === 'array') walk(def.element, `${path}[]`);
    if (def.type !== 'object') return;
    for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) {
      const p = path ? `${path}.${k}` : k;
      out.push(p.replaceAll('[]', ''));
      walk(v, p);
    }
  };
  walk(configSchema, '');
  return out;
}

describe('man pages', () => {
  it('legiond(8) has its sections and every option of legiond --help', () => {
    const text = render('legiond.8');
    expect(text).toMatch(/^LEGIOND\(8\)\s+legiond manual\s+LEGIOND\(8\)/);
    expect(sections(text)).toEqual(
      expect.arrayContaining([
        'NAME',
        'SYNOPSIS',
        'DESCRIPTION',
        'OPTIONS',
        'COMMANDS',
        'SIGNALS',
        'HTTP ENDPOINTS',
        'EXIT STATUS',
        'ENVIRONMENT',
        'FILES',
        'SEE ALSO',
      ]),
    );
    const opts = [...helpOptions(LEGIOND, []), ...helpOptions(LEGIOND, ['check-config'])];
    expect(opts).toContain('--http');
    for (const o of opts) expect(text, `legiond(8) lacks ${o}`).toContain(o);
    for (const s of ['SIGTERM', 'SIGINT', 'SIGHUP', 'check-config', '/events', 'legiond.yaml(5)'])
      expect(text).toContain(s);
    const exit = text.slice(text.indexOf('EXIT STATUS'), text.indexOf('ENVIRONMENT'));
    for (const code of ['0', '1', '2']) expect(exit).toMatch(new RegExp(`^\\s+• ${code}:`, 'm'));
  });

  it('legionctl(8) has every command and option of legionctl --help', () => {
    const text = render('legionctl.8');
    expect(sections(text)).toEqual(
      expect.arrayContaining([
        'NAME',
        'SYNOPSIS',
        'OPTIONS',
        'COMMANDS',
        'EXIT STATUS',
        'ENVIRONMENT',
        'FILES',
      ]),
    );
    const r = spawnSync(process.execPath, [LEGIONCTL, '--help'], { encoding: 'utf8' });
    const commands = [...r.stdout.slice(r.stdout.indexOf('Commands:')).matchAll(/^ {2}([a-z]+)/gm)].map(
      (m) => m[1]!,
    );
    expect(commands).toContain('stepdown');
    const commandsSection = text.slice(text.indexOf('COMMANDS'), text.indexOf('EXIT STATUS'));
    for (const c of commands)
      expect(commandsSection, `legionctl(8) lacks ${c}`).toMatch(new RegExp(`• ${c}\\b`));
    for (const sub of ['valor get', 'valor set', 'scroll get', 'scroll set'])
      expect(commandsSection).toContain(`• ${sub}`);
    const opts = [
      ...helpOptions(LEGIONCTL, []),
      ...commands.filter((c) => c !== 'help').flatMap((c) => helpOptions(LEGIONCTL, [c])),
      ...helpOptions(LEGIONCTL, ['scroll', 'set']),
    ];
    for (const o of ['--for', '--cancel', '--file', '--timeout']) expect(opts).toContain(o);
    for (const o of new Set(opts)) expect(text, `legionctl(8) lacks ${o}`).toContain(o);
    const exit = text.slice(text.indexOf('EXIT STATUS'), text.indexOf('ENVIRONMENT'));
    for (const code of ['0', '1', '2', '3']) expect(exit).toMatch(new RegExp(`^\\s+• ${code}:`, 'm'));
    expect(text).toContain('LEGIOND_CONTROL');
  });

  it('legiond.yaml(5) describes every key of the config schema', () => {
    const text = render('legiond.yaml.5');
    expect(sections(text)).toEqual(
      expect.arrayContaining(['NAME', 'DESCRIPTION', 'TOP-LEVEL KEYS', 'LEGION KEYS', 'FILES']),
    );
    const keys = schemaKeys();
    expect(keys).toContain('legions.cron.schedule');
    expect(keys.length).toBeGreaterThan(60);
    const top = text.slice(text.indexOf('TOP-LEVEL KEYS'), text.indexOf('LEGION KEYS'));
    const legion = text.slice(text.indexOf('LEGION KEYS'), text.indexOf('EXAMPLE'));
    const item = (k: string) => new RegExp(`^\\s+• ${k.replace(/[.[\]]/g, '\\$&')}:`, 'm');
    for (const k of keys) {
      if (!k.startsWith('legions.')) expect(top, `legiond.yaml(5) lacks ${k}`).toMatch(item(k));
      else {
        // in the page, a key of a list of maps is written `cron[].schedule`
        const [, first, ...rest] = k.split('.');
        const name =
          rest.length === 0
            ? first!
            : `${first}${['cron', 'daemons', 'checks'].includes(first!) ? '[]' : ''}.${rest.join('.')}`;
        expect(legion, `legiond.yaml(5) lacks ${name}`).toMatch(item(name));
      }
    }
  });

  it('are installed through package.json and packed by npm', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    expect(pkg.man).toEqual(['./man/legiond.8', './man/legionctl.8', './man/legiond.yaml.5']);
    const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status, r.stderr).toBe(0);
    const files = (JSON.parse(r.stdout) as { files: { path: string }[] }[])[0]!.files.map((f) => f.path);
    for (const m of pkg.man as string[]) expect(files).toContain(m.replace(/^\.\//, ''));
  }, 60_000);
});
