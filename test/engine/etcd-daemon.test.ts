/**
 * legiond with `backend: etcd` as an operator meets it: started before etcd is up (it says the
 * engine is unreachable and holds no title, then takes it once etcd answers), a SIGHUP that
 * changes the engine settings (refused, the legion carries on), and check-config on a password
 * file others can read (refused, naming the key).
 */
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { EtcdServer, freePort } from '../helpers/etcd-server.js';
import { Lab, LEGIOND, legionctl, requireBuild } from '../helpers/procs.js';

let lab: Lab | null = null;
let etcd: EtcdServer | null = null;
afterEach(async () => {
  await lab?.cleanup();
  lab = null;
  await etcd?.cleanup();
  etcd = null;
}, 30_000);

function yaml(l: Lab, endpoint: string, ttl = '2s', extra = ''): string {
  return `control: ${JSON.stringify(l.path('n1.sock'))}
log_level: debug
legions:
  - name: web
    node_name: n1
    valor: 10
    backend: etcd
    etcd: {endpoints: [${JSON.stringify(endpoint)}], prefix: /d, ttl: ${ttl}${extra}}
`;
}

function status(l: Lab) {
  const r = legionctl(['--control', l.path('n1.sock'), '--timeout', '3s', 'status', '--json']);
  if (r.code !== 0) return null;
  return JSON.parse(r.stdout).legions[0] as {
    lord: { name: string } | null;
    epoch: string;
    engine?: { reachable: boolean; lastError: string | null };
  };
}

async function until<T>(f: () => T | null | undefined | false, what: string, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('legiond with backend etcd', () => {
  it('started before etcd: reports the engine unreachable and no lord, then takes the title once etcd is up', async () => {
    lab = new Lab('legiond-etcd-daemon-');
    etcd = new EtcdServer();
    const port = await freePort();
    etcd.clientPort = port;
    etcd.peerPort = await freePort();
    const file = lab.path('n1.yaml');
    writeFileSync(file, yaml(lab, `127.0.0.1:${port}`));
    const p = lab.legiond('n1', ['--config', file]);
    await p.ready(20_000);
    const down = await until(() => {
      const s = status(lab!);
      return s?.engine && !s.engine.reachable ? s : null;
    }, 'status to say the engine is unreachable');
    expect(down.lord).toBeNull();
    expect(down.engine?.lastError).toBeTruthy();
    await p.waitFor((l) => /engine unreachable/.test(String(l.msg)), 10_000, 'the unreachable warning');
    const text = legionctl(['--control', lab.path('n1.sock'), 'status']);
    expect(text.stdout).toMatch(/engine +etcd UNREACHABLE/);
    await etcd.start();
    await p.waitEvent('lord', 20_000);
    const up = await until(() => {
      const s = status(lab!);
      return s?.lord?.name === 'n1' ? s : null;
    }, 'n1 to be lord');
    expect(up.engine?.reachable).toBe(true);
    expect(BigInt(up.epoch)).toBeGreaterThan(0n);
  });

  it('SIGHUP that changes the engine settings is refused; the legion keeps its title', async () => {
    lab = new Lab('legiond-etcd-daemon-');
    etcd = new EtcdServer();
    await etcd.start();
    const file = lab.path('n1.yaml');
    writeFileSync(file, yaml(lab, etcd.endpoint));
    const p = lab.legiond('n1', ['--config', file]);
    const lord = await p.waitEvent('lord', 20_000);
    writeFileSync(file, yaml(lab, etcd.endpoint, '3s'));
    const m = p.mark();
    p.kill('SIGHUP');
    await p.waitFor(
      (l) => /backend or its engine settings changed/.test(String(l.msg)),
      10_000,
      'the refusal',
      m,
    );
    await new Promise((r) => setTimeout(r, 1000));
    expect(p.lines.slice(m).some((l) => l.event === 'unlord')).toBe(false);
    expect(status(lab)?.epoch).toBe(lord.epoch);
  });

  it('check-config refuses a password file others can read, naming the key', () => {
    requireBuild();
    lab = new Lab('legiond-etcd-daemon-');
    const pw = lab.path('etcd.pw');
    writeFileSync(pw, 'secret', { mode: 0o644 });
    const file = lab.path('n1.yaml');
    writeFileSync(
      file,
      yaml(lab, '127.0.0.1:2379', '2s', `, username: legiond, password_file: ${JSON.stringify(pw)}`),
    );
    const r = spawnSync(process.execPath, [LEGIOND, 'check-config', file], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/legions\[0\]\.etcd\.password_file: .*etcd\.pw has mode 0644/);
  });
});
