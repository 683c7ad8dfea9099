/**
 * The words an engine failure over TLS is reported in: the etcd client's own handshake probe
 * (grpc-js says only "Last error: null") and the PostgreSQL error mapping, which must not call a
 * Node TLS code an SQLSTATE.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type Server } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { engineError } from '../../src/engine/postgres-errors.js';
import { tlsHandshakeError } from '../../src/engine/tls-probe.js';
import { freePort } from '../helpers/etcd-server.js';
import { makeTls, type TlsFiles } from '../helpers/tls-certs.js';

let dir: string;
let files: TlsFiles;
let server: Server;
let url: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'legiond-tls-probe-'));
  files = makeTls(dir);
  server = createServer({ cert: readFileSync(files.cert), key: readFileSync(files.key) }, (s) => s.end());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  url = `https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
});
afterAll(async () => {
  await new Promise((r) => server?.close(r));
  rmSync(dir, { recursive: true, force: true });
});

describe('tlsHandshakeError', () => {
  it('null when the CA signed the server certificate for that address', async () => {
    expect(await tlsHandshakeError(url, { ca: readFileSync(files.ca) }, 5000)).toBeNull();
  });

  it('names the verification failure with another CA', async () => {
    const why = await tlsHandshakeError(url, { ca: readFileSync(files.otherCa) }, 5000);
    expect(why).toMatch(
      /^TLS with 127\.0\.0\.1:\d+: unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/,
    );
  });

  it('names the refused connection when nothing listens', async () => {
    const port = await freePort();
    const why = await tlsHandshakeError(`https://127.0.0.1:${port}`, { ca: readFileSync(files.ca) }, 5000);
    expect(why).toMatch(new RegExp(`^TLS with 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED`));
  });
});

describe('tlsHandshakeError against a server requiring a client certificate', () => {
  let strict: Server;
  let strictUrl: string;
  beforeAll(async () => {
    const ca = readFileSync(files.ca);
    const o = { cert: readFileSync(files.cert), key: readFileSync(files.key), ca, requestCert: true };
    strict = createServer({ ...o, rejectUnauthorized: true }, (s) => s.end());
    await new Promise<void>((r) => strict.listen(0, '127.0.0.1', r));
    const a = strict.address();
    strictUrl = `https://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  });
  afterAll(async () => {
    await new Promise((r) => strict?.close(r));
  });

  it('names the refusal the server sends after the handshake (TLS 1.3) when we show no certificate', async () => {
    const why = await tlsHandshakeError(strictUrl, { ca: readFileSync(files.ca) }, 5000);
    expect(why).toMatch(/^TLS with 127\.0\.0\.1:\d+: .*certificate required/);
  });

  it('null when we show one the CA signed', async () => {
    const m = { ca: readFileSync(files.ca), cert: readFileSync(files.cert), key: readFileSync(files.key) };
    expect(await tlsHandshakeError(strictUrl, m, 5000)).toBeNull();
  });
});

describe('engineError (PostgreSQL)', () => {
  it('a Node TLS code is shown as itself, not as an SQLSTATE', () => {
    const e = Object.assign(new Error('unable to verify the first certificate'), {
      code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
    });
    const got = engineError(e, 'connect', '127.0.0.1:5432/db');
    expect(got.code).toBe('ERR_ENGINE');
    expect(got.message).toBe(
      'PostgreSQL 127.0.0.1:5432/db: connect: unable to verify the first certificate (UNABLE_TO_VERIFY_LEAF_SIGNATURE)',
    );
  });

  it('a server code is still an SQLSTATE', () => {
    const e = Object.assign(new Error('password authentication failed for user "x"'), { code: '28P01' });
    expect(engineError(e, 'connect', 'h:1/d').message).toMatch(/\(SQLSTATE 28P01\)$/);
  });
});
