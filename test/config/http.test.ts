import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isLoopbackAddress } from '../../src/config/address.js';
import { configFromFlags, parseConfigText } from '../../src/config/index.js';
import { isLegiondError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-http-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const LEGIONS = `legions:
  - name: web
    bind: 127.0.0.1:4242
    peers: ["127.0.0.1:4243"]
    insecure: true
`;

const parse = (http: string) => parseConfigText(`${http}\n${LEGIONS}`, 'conf.yaml', { baseDir: dir });

function errorOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

describe('http config', () => {
  it('is off unless configured; `http: {}` listens on 127.0.0.1:9442', () => {
    expect(parse('').http).toBeNull();
    expect(parse('http: {}').http).toEqual({ listen: { host: '127.0.0.1', port: 9442 }, tokenFile: null });
  });

  it('loopback is 127.0.0.0/8 and ::1', () => {
    for (const a of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1'])
      expect(isLoopbackAddress(a), a).toBe(true);
    for (const a of ['0.0.0.0', '10.0.0.1', '::', '128.0.0.1', '::2', 'localhost'])
      expect(isLoopbackAddress(a), a).toBe(false);
  });

  it('a listen off loopback without token_file is refused, naming the key and the file', () => {
    const m = errorOf(() => parse('http: {listen: 0.0.0.0:9442}'));
    expect(m).toMatch(
      /^conf\.yaml: http\.token_file: required: listen 0\.0\.0\.0:9442 is not a loopback address/m,
    );
  });

  it('the token file must exist and be readable by its owner only', () => {
    const token = join(dir, 'token');
    expect(errorOf(() => parse(`http: {listen: 0.0.0.0:9442, token_file: ${token}}`))).toMatch(
      /http\.token_file: cannot read .*token: ENOENT/,
    );
    writeFileSync(token, 'abc\n');
    chmodSync(token, 0o640);
    expect(errorOf(() => parse(`http: {listen: 0.0.0.0:9442, token_file: token}`))).toMatch(
      /http\.token_file: .*token has mode 640; it must be readable by its owner only \(chmod 600\)/,
    );
    chmodSync(token, 0o600);
    expect(parse('http: {listen: 0.0.0.0:9442, token_file: token}').http).toEqual({
      listen: { host: '0.0.0.0', port: 9442 },
      tokenFile: token,
    });
  });

  it('bad listen addresses and unknown keys are errors', () => {
    expect(errorOf(() => parse('http: {listen: example.com:80}'))).toMatch(
      /http\.listen: .*not an IP address/,
    );
    expect(errorOf(() => parse('http: {listen: 127.0.0.1:0}'))).toMatch(/http\.listen: .*port must be/);
    expect(errorOf(() => parse('http: {port: 80}'))).toMatch(/http\.port: unknown key/);
  });

  it('--http and --http-token-file build the same config, errors naming the flag', () => {
    const base = { legion: 'web', bind: '127.0.0.1:4242', peer: ['127.0.0.1:4243'], insecure: true };
    expect(configFromFlags({ ...base, http: '127.0.0.1:48799' }).http).toEqual({
      listen: { host: '127.0.0.1', port: 48799 },
      tokenFile: null,
    });
    expect(errorOf(() => configFromFlags({ ...base, http: '0.0.0.0:48799' }))).toMatch(
      /--http-token-file: required: listen 0\.0\.0\.0:48799 is not a loopback address/,
    );
    expect(errorOf(() => configFromFlags({ ...base, http: 'nope' }))).toMatch(/--http: /);
  });
});
