import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../../src/config/flags.js';
import { parseConfigText } from '../../src/config/index.js';
import { isLegiondError } from '../../src/errors.js';

const engine = (extra: string) => `legions:
  - name: web
${extra}`;

function parse(text: string) {
  return parseConfigText(text, 'config/eng.yaml', { hostname: () => 'h', baseDir: '/etc/legiond' });
}

function errorOf(text: string): string {
  try {
    parse(text);
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

describe('backend and engine sections', () => {
  it('backend defaults to udp with no engine', () => {
    const l = parse(engine('    bind: 127.0.0.1:4242\n    peers: ["127.0.0.1:4243"]\n    insecure: true\n'))
      .legions[0]!;
    expect(l).toMatchObject({ backend: 'udp', engine: null });
  });

  it('backend etcd: endpoints, prefix, ttl, TLS and credentials, with paths made absolute', () => {
    const l = parse(
      engine(`    backend: etcd
    etcd:
      endpoints: ["10.0.0.1:2379", "https://etcd.example:2379/"]
      prefix: /prod/legiond
      ttl: 3s
      tls: {ca_file: ca.pem, cert_file: c.pem, key_file: k.pem}
      username: legiond
      password_file: etcd.pw
`),
    ).legions[0]!;
    expect(l.backend).toBe('etcd');
    expect(l.engine).toEqual({
      backend: 'etcd',
      ttlMs: 3000,
      etcd: {
        endpoints: ['10.0.0.1:2379', 'https://etcd.example:2379'],
        prefix: '/prod/legiond',
        tls: { caFile: '/etc/legiond/ca.pem', certFile: '/etc/legiond/c.pem', keyFile: '/etc/legiond/k.pem' },
        username: 'legiond',
        passwordFile: '/etc/legiond/etcd.pw',
      },
    });
  });

  it('etcd defaults: prefix /legiond, ttl 5s', () => {
    const l = parse(engine('    backend: etcd\n    etcd: {endpoints: ["127.0.0.1:2379"]}\n')).legions[0]!;
    expect(l.engine).toMatchObject({ ttlMs: 5000, etcd: { prefix: '/legiond', tls: null, username: null } });
  });

  it('backend postgres: url or host, password from a file', () => {
    const l = parse(
      engine(
        '    backend: postgres\n    postgres: {host: db, database: app, user: legiond, password_file: pg.pw}\n',
      ),
    ).legions[0]!;
    expect(l.engine).toEqual({
      backend: 'postgres',
      ttlMs: 5000,
      postgres: {
        url: null,
        host: 'db',
        port: 5432,
        database: 'app',
        user: 'legiond',
        passwordFile: '/etc/legiond/pg.pw',
        tls: null,
      },
    });
  });

  it('bad values name the key and the file', () => {
    expect(errorOf(engine('    backend: etcd\n'))).toMatch(
      /config\/eng\.yaml: legions\[0\]\.etcd: required with backend: etcd/,
    );
    expect(errorOf(engine('    backend: etcd\n    etcd: {endpoints: []}\n'))).toMatch(
      /legions\[0\]\.etcd\.endpoints: at least one endpoint/,
    );
    expect(errorOf(engine('    backend: etcd\n    etcd: {endpoints: ["ftp://x"]}\n'))).toMatch(
      /legions\[0\]\.etcd\.endpoints\[0\]: "ftp:\/\/x": must be host:port/,
    );
    expect(errorOf(engine('    backend: etcd\n    etcd: {endpoints: ["a:1"], ttl: 500ms}\n'))).toMatch(
      /legions\[0\]\.etcd\.ttl: must be at least 1s/,
    );
    expect(errorOf(engine('    backend: etcd\n    etcd: {endpoints: ["a:1"], username: u}\n'))).toMatch(
      /legions\[0\]\.etcd\.password_file: set username and password_file together/,
    );
    expect(errorOf(engine('    backend: etcd\n    etcd: {endpoints: ["a:1"], colour: red}\n'))).toMatch(
      /legions\[0\]\.etcd.*colour/,
    );
    expect(errorOf(engine('    backend: postgres\n    postgres: {database: x}\n'))).toMatch(
      /legions\[0\]\.postgres\.url: set url, or host/,
    );
    expect(errorOf(engine('    backend: raft\n'))).toMatch(/legions\[0\]\.backend/);
  });

  it('strong mode refuses the UDP keys, which would do nothing there', () => {
    const msg = errorOf(
      engine(
        '    backend: etcd\n    etcd: {endpoints: ["a:1"]}\n    bind: 127.0.0.1:1\n    peers: ["127.0.0.1:2"]\n    quorum: 2\n    secret_file: s\n',
      ),
    );
    for (const key of ['bind', 'peers', 'quorum', 'secret_file'])
      expect(msg).toMatch(new RegExp(`legions\\[0\\]\\.${key}: not used with backend: etcd`));
    expect(
      errorOf(
        engine(
          '    bind: 127.0.0.1:1\n    peers: ["127.0.0.1:2"]\n    insecure: true\n    etcd: {endpoints: ["a:1"]}\n',
        ),
      ),
    ).toMatch(/legions\[0\]\.etcd: only valid with backend: etcd/);
    expect(errorOf(engine('    backend: udp\n    insecure: true\n    peers: ["127.0.0.1:2"]\n'))).toMatch(
      /legions\[0\]\.bind: required/,
    );
  });

  it('flags: --backend etcd --etcd-endpoint (repeatable) --engine-ttl; errors name the flag', () => {
    const c = configFromFlags(
      { legion: 'web', backend: 'etcd', etcdEndpoint: ['127.0.0.1:2379', '127.0.0.1:2380'], engineTtl: '2s' },
      { hostname: () => 'h' },
    );
    expect(c.legions[0]!.engine).toMatchObject({
      backend: 'etcd',
      ttlMs: 2000,
      etcd: { endpoints: ['127.0.0.1:2379', '127.0.0.1:2380'] },
    });
    try {
      configFromFlags({ legion: 'web', backend: 'etcd', etcdEndpoint: ['x'] }, { hostname: () => 'h' });
      throw new Error('expected an error');
    } catch (e) {
      expect((e as Error).message).toMatch(/--etcd-endpoint/);
    }
  });
});
