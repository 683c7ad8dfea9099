import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfigFile, parseConfigText } from '../../src/config/index.js';
import { isLegiondError } from '../../src/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const MINIMAL = `legions:
  - name: web
    bind: 127.0.0.1:4242
    peers: ["127.0.0.1:4243"]
    insecure: true
`;

/** the ERR_CONFIG message parseConfigText throws for `text` */
function errorOf(text: string, source = 'config/bad.yaml'): string {
  try {
    parseConfigText(text, source, { hostname: () => 'host-a' });
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

/** MINIMAL with the first legion's `key: value` lines replaced or added */
function legionWith(lines: Record<string, string | null>): string {
  const base: Record<string, string> = {
    name: 'web',
    bind: '127.0.0.1:4242',
    peers: '["127.0.0.1:4243"]',
    insecure: 'true',
  };
  const merged = { ...base, ...lines };
  const body = Object.entries(merged)
    .filter(([, v]) => v !== null)
    .map(([k, v], i) => `${i === 0 ? '  - ' : '    '}${k}: ${v}`)
    .join('\n');
  return `legions:\n${body}\n`;
}

describe('parseConfigText', () => {
  it('fills every default for a minimal legion', () => {
    const c = parseConfigText(MINIMAL, 'min.yaml', { hostname: () => 'host-a' });
    expect(c.logLevel).toBe('info');
    expect(c.control).toBe('/run/legiond/legiond.sock');
    expect(c.stateDir).toBeNull();
    const l = c.legions[0]!;
    expect(l).toMatchObject({
      name: 'web',
      protocol: 'native',
      valor: 1n,
      nodeName: 'host-a',
      bind: { host: '127.0.0.1', port: 4242 },
      peers: [{ host: '127.0.0.1', port: 4243 }],
      peerResolveIntervalMs: 30_000,
      multicast: null,
      quorum: 1,
      intervalMs: 250,
      toleranceMs: 1000,
      jitter: 0.2,
      preempt: true,
      preemptDelayMs: 0,
      lordDelayMs: 0,
      secretFile: null,
      insecure: true,
      uwsgi: { cipher: 'aes-128-cbc', iv: null },
      hookTimeoutMs: 10_000,
      holdTimeoutMs: 15_000,
      lordHookFailure: null,
      cron: [],
      daemons: [],
      checks: [],
    });
    expect(l.scroll).toEqual(new Uint8Array(0));
    expect(l.hooks).toEqual({
      'lord-changed': [],
      'scroll-changed': [],
      setup: [],
      join: [],
      lord: [],
      unlord: [],
      'node-joined': [],
      'node-left': [],
      death: [],
    });
  });

  it('parses durations, valor up to 2^64-1, addresses, hooks and lord-only work', () => {
    const text = `log_level: debug
state_dir: state
legions:
  - name: db
    valor: 18446744073709551615
    bind: "[::]:0"
    peers: ["[::1]:5000", "db-2.example:5000"]
    multicast: {group: "[ff02::1234]:5001", ttl: 2, loop: false}
    interval: 1.5s
    tolerance: 2m
    preempt_delay: 300
    secret_file: keys/db.secret
    accept_secret_files: [keys/old.secret]
    hooks:
      lord: [[/bin/echo, up], "echo two"]
      node-left: echo gone
    lord_hook_failure: {stepdown: 1m}
    cron: [{schedule: "*/5 * * * *", command: date, timeout: 30s}]
    daemons: [{command: [sleep, "100"]}]
    checks: [{command: "true", weight: "500"}]
`;
    const c = parseConfigText(text, '/etc/legiond/x.yaml', { baseDir: '/etc/legiond', hostname: () => 'h' });
    expect(c.logLevel).toBe('debug');
    expect(c.stateDir).toBe('/etc/legiond/state');
    const l = c.legions[0]!;
    expect(l.valor).toBe((1n << 64n) - 1n);
    expect(l.bind).toEqual({ host: '::', port: 0 });
    expect(l.peers).toEqual([
      { host: '::1', port: 5000 },
      { host: 'db-2.example', port: 5000 },
    ]);
    expect(l.multicast).toEqual({
      group: { host: 'ff02::1234', port: 5001 },
      interface: null,
      ttl: 2,
      loop: false,
    });
    expect([l.intervalMs, l.toleranceMs, l.preemptDelayMs]).toEqual([1500, 120_000, 300]);
    expect(l.secretFile).toBe('/etc/legiond/keys/db.secret');
    expect(l.acceptSecretFiles).toEqual(['/etc/legiond/keys/old.secret']);
    expect(l.hooks.lord).toEqual([['/bin/echo', 'up'], 'echo two']);
    expect(l.hooks['node-left']).toEqual(['echo gone']);
    expect(l.lordHookFailure).toEqual({ stepdownMs: 60_000 });
    expect(l.cron).toEqual([{ schedule: '*/5 * * * *', command: 'date', timeoutMs: 30_000 }]);
    expect(l.daemons).toEqual([{ command: ['sleep', '100'], graceMs: 5000, restartBackoffMs: 1000 }]);
    expect(l.checks).toEqual([
      { command: 'true', intervalMs: 5000, timeoutMs: 2000, weight: 500n, rise: 2, fall: 3 },
    ]);
  });

  it('reads scroll_file relative to the config file', async () => {
    writeFileSync(join(dir, 'web.scroll'), 'addr=10.0.0.5:6379');
    const file = join(dir, 'scroll.yaml');
    writeFileSync(file, legionWith({ scroll_file: 'web.scroll' }));
    const c = await loadConfigFile(file, { hostname: () => 'h' });
    expect(Buffer.from(c.legions[0]!.scroll).toString()).toBe('addr=10.0.0.5:6379');
    expect(c.legions[0]!.scrollFile).toBe(join(dir, 'web.scroll'));
  });

  it('loads the shipped example with every option at its default', async () => {
    const c = await loadConfigFile(join(import.meta.dirname, '../../config/legiond.example.yaml'));
    const l = c.legions[0]!;
    expect(l.name).toBe('web');
    expect(l.multicast?.group).toEqual({ host: '239.255.42.99', port: 4242 });
    expect([l.intervalMs, l.toleranceMs, l.hookTimeoutMs, l.holdTimeoutMs]).toEqual([
      250, 1000, 10_000, 15_000,
    ]);
    expect(l.hooks.lord.length).toBe(1);
    expect(l.secretFile).toBe('/etc/legiond/web.secret');
  });
});

describe('config errors name the file and the key', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['unknown top-level key', `${MINIMAL}colour: blue\n`, /^config\/bad\.yaml: colour: unknown key/m],
    [
      'unknown legion key',
      legionWith({ valour: '3' }),
      /config\/bad\.yaml: legions\[0\]\.valour: unknown key/,
    ],
    [
      'unknown nested key',
      legionWith({ multicast: '{group: "239.1.1.1:5000", tll: 3}' }),
      /config\/bad\.yaml: legions\[0\]\.multicast\.tll: unknown key/,
    ],
    [
      'unknown hook event',
      legionWith({ hooks: '{lordship: x}' }),
      /legions\[0\]\.hooks\.lordship: unknown hook event/,
    ],
    [
      'bad duration',
      legionWith({ interval: '5 parsecs' }),
      /config\/bad\.yaml: legions\[0\]\.interval: expected a duration/,
    ],
    ['negative duration', legionWith({ tolerance: '-1' }), /legions\[0\]\.tolerance: expected a duration/],
    [
      'bad valor',
      legionWith({ valor: 'high' }),
      /config\/bad\.yaml: legions\[0\]\.valor: expected a non-negative integer/,
    ],
    ['negative valor', legionWith({ valor: '-1' }), /legions\[0\]\.valor: expected a non-negative integer/],
    [
      'valor above 2^64-1',
      legionWith({ valor: '18446744073709551616' }),
      /legions\[0\]\.valor: must be at most/,
    ],
    [
      'tolerance not above interval',
      legionWith({ interval: '1s', tolerance: '1s' }),
      /config\/bad\.yaml: legions\[0\]\.tolerance: must exceed interval/,
    ],
    [
      'both secret_file and insecure',
      legionWith({ secret_file: 's.key' }),
      /config\/bad\.yaml: legions\[0\]\.insecure: set either secret_file or insecure/,
    ],
    [
      'neither secret_file nor insecure',
      legionWith({ insecure: null }),
      /config\/bad\.yaml: legions\[0\]\.secret_file: required/,
    ],
    [
      'bad cron field value',
      legionWith({ cron: '[{schedule: "61 * * * *", command: x}]' }),
      /config\/bad\.yaml: legions\[0\]\.cron\[0\]\.schedule: .*61/,
    ],
    [
      'cron with seven fields',
      legionWith({ cron: '[{schedule: "0 */5 * * * * 2030", command: x}]' }),
      /legions\[0\]\.cron\[0\]\.schedule: .*expected 5 fields/,
    ],
    [
      'bind without port',
      legionWith({ bind: '127.0.0.1' }),
      /config\/bad\.yaml: legions\[0\]\.bind: .*HOST:PORT/,
    ],
    [
      'bind to a host name',
      legionWith({ bind: 'example.com:80' }),
      /legions\[0\]\.bind: .*not an IP address/,
    ],
    ['bind port out of range', legionWith({ bind: '127.0.0.1:70000' }), /legions\[0\]\.bind: .*port must be/],
    ['unbracketed IPv6 bind', legionWith({ bind: '::1:4242' }), /legions\[0\]\.bind: .*brackets/],
    ['missing bind', legionWith({ bind: null }), /config\/bad\.yaml: legions\[0\]\.bind: required/],
    [
      'no peers nor multicast',
      legionWith({ peers: null }),
      /legions\[0\]\.peers: set peers, multicast or both/,
    ],
    [
      'non-multicast group',
      legionWith({ multicast: '{group: "10.0.0.1:5000"}' }),
      /multicast\.group: .*not a multicast/,
    ],
    ['jitter out of range', legionWith({ jitter: '0.7' }), /legions\[0\]\.jitter: must be from 0 to 0\.5/],
    ['quorum zero', legionWith({ quorum: '0' }), /legions\[0\]\.quorum: expected an integer from 1/],
    [
      'long legion name',
      legionWith({ name: 'x'.repeat(65) }),
      /legions\[0\]\.name: must be at most 64 bytes/,
    ],
    [
      'long node name',
      legionWith({ node_name: 'é'.repeat(33) }),
      /legions\[0\]\.node_name: must be at most 64 bytes/,
    ],
    [
      'scroll too long',
      legionWith({ scroll: 'x'.repeat(1025) }),
      /legions\[0\]\.scroll: must be at most 1024 bytes/,
    ],
    [
      'scroll and scroll_file',
      legionWith({ scroll: 'a', scroll_file: 'b' }),
      /legions\[0\]\.scroll_file: set scroll or/,
    ],
    [
      'uwsgi block with native',
      legionWith({ uwsgi: '{cipher: aes-256-cbc}' }),
      /legions\[0\]\.uwsgi: only valid with/,
    ],
    [
      'bad protocol',
      legionWith({ protocol: 'udp' }),
      /legions\[0\]\.protocol: expected one of: native, uwsgi/,
    ],
    [
      'empty hook command',
      legionWith({ hooks: '{lord: ""}' }),
      /legions\[0\]\.hooks\.lord: command must not be empty/,
    ],
    [
      'check without weight',
      legionWith({ checks: '[{command: "true"}]' }),
      /legions\[0\]\.checks\[0\]\.weight: required/,
    ],
    ['wrong type', legionWith({ preempt: '"yes"' }), /legions\[0\]\.preempt: expected true or false/],
    ['no legions', 'legions: []\n', /config\/bad\.yaml: legions: at least one legion is required/],
    ['empty file', '', /config\/bad\.yaml: expected a mapping/],
    [
      'duplicate legion names',
      `${MINIMAL}${MINIMAL.slice('legions:\n'.length)}`,
      /legions\[1\]\.name: duplicate legion name/,
    ],
    ['YAML syntax error', 'legions: [\n', /^config\/bad\.yaml:\d+:\d+: YAML syntax error/],
    [
      'duplicate YAML key',
      'log_level: info\nlog_level: debug\n',
      /config\/bad\.yaml:2:\d+: YAML syntax error/,
    ],
  ];
  it.each(cases)('%s', (_name, text, expected) => {
    expect(errorOf(text)).toMatch(expected);
  });

  it('reports the line of the offending key', () => {
    const text = 'legions:\n  - name: web\n    valor: high\n    bind: 127.0.0.1:1\n    insecure: true\n';
    expect(errorOf(text)).toMatch(/valor: expected a non-negative integer \(line 3\)/);
  });

  it('reports every problem, one per line', () => {
    const msg = errorOf(`${legionWith({ valor: 'x', interval: 'y' })}extra: 1\n`);
    expect(msg.split('\n')).toHaveLength(3);
  });

  it('names a missing scroll_file and an unreadable config file', async () => {
    expect(errorOf(legionWith({ scroll_file: 'nowhere.scroll' }))).toMatch(
      /legions\[0\]\.scroll_file: cannot read .*ENOENT/,
    );
    await expect(loadConfigFile(join(dir, 'absent.yaml'))).rejects.toThrow(
      /absent\.yaml: cannot read the config file/,
    );
  });

  it('refuses a host name too long to be the default node name', () => {
    expect(() => parseConfigText(MINIMAL, 'h.yaml', { hostname: () => 'h'.repeat(80) })).toThrow(
      /legions\[0\]\.node_name: the host name .* set node_name/,
    );
  });
});
