/**
 * The built CLIs: `--version` prints package.json's version on both tools, and `check-config`
 * passes the shipped example (its secret files exist only where it is deployed, hence
 * --no-secrets) and fails a broken copy naming the key and the file.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LEGIONCTL, LEGIOND, ROOT, requireBuild } from '../helpers/procs.js';

const EXAMPLE = join(ROOT, 'config', 'legiond.example.yaml');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function run(bin: string, args: string[]) {
  requireBuild();
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

describe('legiond and legionctl --version', () => {
  it.each([
    ['legiond', LEGIOND],
    ['legionctl', LEGIONCTL],
  ])('%s --version prints the package version', (_name, bin) => {
    expect(VERSION).toMatch(/^\d+\.\d+\.\d+/);
    for (const flag of ['--version', '-V']) {
      const r = run(bin, [flag]);
      expect(r).toEqual({ code: 0, stdout: `${VERSION}\n`, stderr: '' });
    }
  });
});

describe('check-config on the shipped example', () => {
  it('passes with --no-secrets', () => {
    const r = run(LEGIOND, ['check-config', '--no-secrets', EXAMPLE]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(`${EXAMPLE}: ok (1 legion, secret files not read)\n`);
  });

  it('without --no-secrets reads the secret files, and a missing one is named with a hint', () => {
    dir = mkdtempSync(join(tmpdir(), 'legiond-check-'));
    const copy = join(dir, 'legiond.yaml');
    const missing = join(dir, 'no-such.secret');
    writeFileSync(copy, readFileSync(EXAMPLE, 'utf8').replace('/etc/legiond/web.secret', missing));
    const r = run(LEGIOND, ['check-config', copy]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`legions[0].secret_file: secret file ${missing} does not exist`);
    expect(r.stderr).toContain('--no-secrets');
  });

  it('fails a broken copy naming the key and the file, with or without --no-secrets', () => {
    dir = mkdtempSync(join(tmpdir(), 'legiond-check-'));
    const copy = join(dir, 'broken.yaml');
    const text = readFileSync(EXAMPLE, 'utf8');
    expect(text).toMatch(/^ {4}interval: 250ms$/m);
    writeFileSync(copy, text.replace(/^ {4}interval: 250ms$/m, '    interval: fast'));
    for (const args of [
      ['check-config', '--no-secrets', copy],
      ['check-config', copy],
    ]) {
      const r = run(LEGIOND, args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toContain(copy);
      expect(r.stderr).toContain('legions[0].interval');
    }
  });
});
