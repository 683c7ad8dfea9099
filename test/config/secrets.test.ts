import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { checkSecrets, parseConfigText, readSecretFile } from '../../src/config/index.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-secret-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function secret(name: string, content: string, mode: number): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  chmodSync(p, mode);
  return p;
}

describe('readSecretFile', () => {
  it('returns the bytes with one trailing newline removed', async () => {
    expect(Buffer.from(await readSecretFile(secret('a', 'k3y\n', 0o600))).toString()).toBe('k3y');
    expect(Buffer.from(await readSecretFile(secret('b', 'k3y\n\n', 0o400))).toString()).toBe('k3y\n');
    expect(Buffer.from(await readSecretFile(secret('c', 'k3y\r\n', 0o600))).toString()).toBe('k3y');
    expect(Buffer.from(await readSecretFile(secret('d', 'k3y', 0o600))).toString()).toBe('k3y');
  });

  it.each([0o640, 0o604, 0o620, 0o602, 0o644])('refuses mode %o', async (mode) => {
    await expect(readSecretFile(secret(`m${mode}`, 'k', mode))).rejects.toMatchObject({
      code: 'ERR_SECRET_PERMS',
    });
  });

  it('refuses a missing file and an empty one', async () => {
    await expect(readSecretFile(join(dir, 'none'))).rejects.toMatchObject({ code: 'ERR_SECRET_MISSING' });
    await expect(readSecretFile(secret('empty', '\n', 0o600))).rejects.toMatchObject({
      code: 'ERR_SECRET_EMPTY',
    });
  });
});

describe('checkSecrets', () => {
  const config = (secretFile: string, accept: string[] = []) =>
    parseConfigText(
      `legions:\n  - name: w\n    bind: 127.0.0.1:1\n    peers: ["127.0.0.1:2"]\n    secret_file: ${secretFile}\n` +
        `    accept_secret_files: ${JSON.stringify(accept)}\n`,
      'c.yaml',
      { baseDir: dir, hostname: () => 'h' },
    );

  it('passes when every secret file is readable by its owner only', async () => {
    secret('ok', 'key', 0o600);
    secret('old', 'old', 0o600);
    await expect(checkSecrets(config('ok', ['old']))).resolves.toBeUndefined();
  });

  it('names the key of every bad file', async () => {
    secret('open', 'key', 0o644);
    const err = await checkSecrets(config('open', ['missing'])).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ERR_SECRET_PERMS' });
    expect((err as Error).message).toMatch(/^legions\[0\]\.secret_file: .*open has mode 0644/m);
    expect((err as Error).message).toMatch(/^legions\[0\]\.accept_secret_files\[0\]: .*does not exist/m);
  });
});
