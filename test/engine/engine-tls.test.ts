/**
 * Strong mode against servers that require TLS and credentials, as production ones do: a
 * PostgreSQL 15 whose pg_hba.conf admits only `hostssl` with scram-sha-256 for one role, and an
 * etcd serving https only with auth enabled. Certificates come from a throwaway CA made with
 * openssl. Each legiond is started from a YAML config naming `password_file` (0600) and
 * `tls.ca_file`; the failures (a wrong password, a CA that did not sign the server's
 * certificate) must leave the node running, not lord, and saying why in its status and log.
 */
import { writeFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { EtcdServer } from '../helpers/etcd-server.js';
import { PgServer } from '../helpers/pg-server.js';
import { Lab, legionctl, type Proc, requireBuild, sleep } from '../helpers/procs.js';
import { makeTls, type TlsFiles } from '../helpers/tls-certs.js';

const PW = 'pg-s3cret-for-legion';
const J = JSON.stringify;

let lab: Lab;
let tls: TlsFiles;
beforeAll(() => {
  requireBuild();
  lab = new Lab('legiond-engine-tls-');
  tls = makeTls(lab.dir);
});
afterAll(async () => {
  await lab?.cleanup();
});

/** legiond processes of one test, stopped after it whatever happened */
let procs: Proc[] = [];
afterEach(async () => {
  for (const p of procs) p.kill('SIGTERM');
  await Promise.all(procs.map((p) => Promise.race([p.exited, sleep(10_000).then(() => p.kill('SIGKILL'))])));
  procs = [];
});

interface Status {
  lord: { name: string } | null;
  engine?: { reachable: boolean; lastError: string | null };
}

function status(name: string): Status | null {
  const r = legionctl(['--control', lab.path(`${name}.sock`), '--timeout', '3s', 'status', '--json']);
  if (r.code !== 0) return null;
  return JSON.parse(r.stdout).legions[0] as Status;
}

async function until<T>(f: () => T | null | undefined | false, what: string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** write `name`.yaml with the engine section given (indented under the legion) and start it */
async function start(name: string, valor: number, engine: string[]): Promise<Proc> {
  const file = lab.path(`${name}.yaml`);
  const lines = [
    `control: ${J(lab.path(`${name}.sock`))}`,
    'log_level: debug',
    'legions:',
    '  - name: web',
    `    node_name: ${name}`,
    `    valor: ${valor}`,
    ...engine.map((l) => `    ${l}`),
  ];
  writeFileSync(file, `${lines.join('\n')}\n`);
  const p = lab.legiond(name, ['--config', file]);
  procs.push(p);
  await p.ready(20_000);
  return p;
}

/** a failing node: running, not lord, its status and log naming the error `why` */
async function refused(p: Proc, why: RegExp): Promise<Status> {
  const st = await until(() => {
    const s = status(p.name);
    return s?.engine && !s.engine.reachable && s.engine.lastError ? s : null;
  }, `${p.name} to report the engine unreachable`);
  expect(st.engine?.lastError).toMatch(why);
  expect(st.lord?.name).not.toBe(p.name);
  const line = await p.waitFor((l) => /engine unreachable/.test(String(l.msg)), 20_000, 'the warning');
  expect(String(line.msg)).toMatch(why);
  expect(legionctl(['--control', lab.path(`${p.name}.sock`), 'status']).stdout).toMatch(/UNREACHABLE/);
  await sleep(1000); // a few more failed attempts: it keeps trying, it does not crash
  expect(p.child.exitCode).toBeNull();
  expect(p.events('lord')).toEqual([]);
  return st;
}

describe('strong mode on PostgreSQL with TLS and scram-sha-256', { timeout: 120_000 }, () => {
  let pgsrv: PgServer;
  beforeAll(async () => {
    pgsrv = await PgServer.start({
      ssl: { cert: tls.cert, key: tls.key },
      // only TLS with a password over TCP; the test's own admin queries use the socket
      hba: ['local all postgres trust', 'hostssl legion legion 127.0.0.1/32 scram-sha-256', ''].join('\n'),
      settings: { password_encryption: 'scram-sha-256' },
    });
    await pgsrv.query(`CREATE ROLE legion LOGIN PASSWORD '${PW}'`);
    await pgsrv.query('CREATE DATABASE legion OWNER legion');
  }, 60_000);
  afterAll(async () => {
    await pgsrv?.stop();
  });

  const pgEngine = (password: string, ca: string, extra: string[] = []) => [
    'backend: postgres',
    'postgres:',
    '  host: 127.0.0.1',
    `  port: ${pgsrv.port}`,
    '  database: legion',
    '  user: legion',
    `  password_file: ${J(lab.secret(`pw-${password}`, password))}`,
    '  ttl: 2s',
    `  tls: {ca_file: ${J(ca)}, reject_unauthorized: true}`,
    ...extra,
  ];

  it('two nodes over TLS with a password: the better one becomes lord, the other sees it', async () => {
    const n2 = await start('p2', 20, pgEngine(PW, tls.ca));
    await n2.waitEvent('lord', 60_000);
    const n1 = await start('p1', 10, pgEngine(PW, tls.ca));
    const s2 = await until(() => {
      const s = status('p2');
      return s?.lord?.name === 'p2' ? s : null;
    }, 'p2 to report itself lord');
    expect(s2.engine?.reachable).toBe(true);
    await until(() => status('p1')?.lord?.name === 'p2', 'p1 to see p2 as lord');
    expect(n1.events('lord')).toEqual([]);
    // the session really is encrypted: the server says so for the legion role's connections
    const r = await pgsrv.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM pg_stat_ssl JOIN pg_stat_activity USING (pid) WHERE usename = 'legion' AND ssl",
    );
    expect(Number(r.rows[0]!.n)).toBeGreaterThan(0);
  });

  it('a wrong password: that node says the authentication failed and is not lord; the lord keeps the title', async () => {
    const good = await start('p2', 20, pgEngine(PW, tls.ca));
    await good.waitEvent('lord', 60_000);
    const bad = await start('p3', 30, pgEngine('not-the-password', tls.ca));
    await refused(bad, /password authentication failed for user "legion"/);
    expect(status('p2')?.lord?.name).toBe('p2');
    expect(good.child.exitCode).toBeNull();
  });

  it('a CA that did not sign the server certificate: that node says the certificate is not trusted', async () => {
    const good = await start('p2', 20, pgEngine(PW, tls.ca));
    await good.waitEvent('lord', 60_000);
    const bad = await start('p3', 30, pgEngine(PW, tls.otherCa));
    const st = await refused(
      bad,
      /unable to verify the first certificate \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)/,
    );
    expect(st.engine?.lastError).not.toMatch(/SQLSTATE/); // a Node TLS code, not the server's
    expect(status('p2')?.lord?.name).toBe('p2');
  });

  it('no TLS at all: the server refuses the unencrypted connection, and the node says so', async () => {
    const plain = pgEngine(PW, tls.ca).filter((l) => !l.startsWith('  tls:'));
    const bad = await start('p3', 30, plain);
    await refused(
      bad,
      /no pg_hba\.conf entry for host "127\.0\.0\.1", user "legion", database "legion", no encryption/,
    );
  });
});

describe('strong mode on etcd with TLS and auth', { timeout: 120_000 }, () => {
  let etcd: EtcdServer;
  const USER_PW = 'etcd-legion-pw';
  beforeAll(async () => {
    etcd = new EtcdServer({ tls: { cert: tls.cert, key: tls.key, ca: tls.ca } });
    await etcd.start();
    await etcd.ctl(['user', 'add', 'root:etcd-root-pw']);
    await etcd.ctl(['user', 'add', `legion:${USER_PW}`]);
    await etcd.ctl(['role', 'add', 'legion']);
    await etcd.ctl(['role', 'grant-permission', 'legion', '--prefix=true', 'readwrite', '/tls/']);
    await etcd.ctl(['user', 'grant-role', 'legion', 'legion']);
    await etcd.ctl(['auth', 'enable']);
    etcd.ctlUser = 'root:etcd-root-pw';
  }, 60_000);
  afterAll(async () => {
    await etcd?.cleanup();
  });

  const etcdEngine = (password: string, ca: string) => [
    'backend: etcd',
    'etcd:',
    `  endpoints: [${J(`https://127.0.0.1:${etcd.clientPort}`)}]`,
    '  prefix: /tls',
    '  ttl: 2s',
    `  tls: {ca_file: ${J(ca)}}`,
    '  username: legion',
    `  password_file: ${J(lab.secret(`etcd-pw-${password}`, password))}`,
  ];

  it('over https with a user limited to its prefix: the node becomes lord', async () => {
    const n = await start('e1', 10, etcdEngine(USER_PW, tls.ca));
    await n.waitEvent('lord', 60_000);
    const s = await until(() => {
      const st = status('e1');
      return st?.lord?.name === 'e1' ? st : null;
    }, 'e1 to report itself lord');
    expect(s.engine?.reachable).toBe(true);
    // its keys are there, under the prefix the role allows
    expect(await etcd.ctl(['get', '--prefix', '--keys-only', '/tls/web/'])).toMatch(/\/tls\/web\/lord/);
  });

  it('a wrong password: the node reports the engine refused it and is not lord, and keeps running', async () => {
    const good = await start('e1', 10, etcdEngine(USER_PW, tls.ca));
    await good.waitEvent('lord', 60_000);
    const bad = await start('e2', 20, etcdEngine('not-the-password', tls.ca));
    await refused(bad, /authentication failed|invalid user ID or password/i);
    expect(status('e1')?.lord?.name).toBe('e1');
  });

  it('a CA that did not sign the server certificate: the node is not lord and keeps running', async () => {
    const bad = await start('e2', 20, etcdEngine(USER_PW, tls.otherCa));
    // grpc-js alone says "No connection established. Last error: null"; the client's own handshake names why
    const st = await refused(bad, /UNAVAILABLE.*unable to verify the first certificate/);
    expect(st.engine?.lastError).not.toMatch(/Last error: null/);
  });
});

describe('strong mode on etcd requiring a client certificate', { timeout: 120_000 }, () => {
  let etcd: EtcdServer;
  beforeAll(async () => {
    // the server's certificate has clientAuth too: etcdctl and legiond present it as theirs
    etcd = new EtcdServer({ tls: { cert: tls.cert, key: tls.key, ca: tls.ca, clientCa: tls.ca } });
    etcd.ctlCert = { cert: tls.cert, key: tls.key };
    await etcd.start();
  }, 60_000);
  afterAll(async () => {
    await etcd?.cleanup();
  });

  const engine = (withCert: boolean) => [
    'backend: etcd',
    'etcd:',
    `  endpoints: [${J(`https://127.0.0.1:${etcd.clientPort}`)}]`,
    '  prefix: /mtls',
    '  ttl: 2s',
    withCert
      ? `  tls: {ca_file: ${J(tls.ca)}, cert_file: ${J(tls.cert)}, key_file: ${J(tls.key)}}`
      : `  tls: {ca_file: ${J(tls.ca)}}`,
  ];

  it('with cert_file and key_file: the node becomes lord', async () => {
    const n = await start('m1', 10, engine(true));
    await n.waitEvent('lord', 60_000);
    await until(() => status('m1')?.lord?.name === 'm1', 'm1 to report itself lord');
    expect(await etcd.ctl(['get', '--prefix', '--keys-only', '/mtls/web/'])).toMatch(/\/mtls\/web\/lord/);
  });

  it('without a client certificate: refused, not lord, still running', async () => {
    const bad = await start('m2', 20, engine(false));
    // etcd (Go) refuses with a "bad certificate" alert after a TLS 1.3 handshake
    const st = await refused(bad, /UNAVAILABLE.*bad certificate/);
    expect(st.engine?.lastError).not.toMatch(/Last error: null/);
  });
});
