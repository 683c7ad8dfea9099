/**
 * The HTTP endpoints of real legiond processes on loopback (UDP 48700-48749, HTTP 48750-48799):
 * metrics and /lord during a failover, /readyz before and after the join, the bearer token, and
 * bad requests answered without harm.
 */

import { spawnSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { get, sample, total } from '../helpers/http.js';
import { Lab, LEGIOND, requireBuild, sleep } from '../helpers/procs.js';

let lab: Lab | null = null;
afterEach(async () => {
  await lab?.cleanup();
  lab = null;
});

const metrics = async (port: number) => {
  const r = await get(port, '/metrics');
  expect(r.status).toBe(200);
  return r.body;
};

/** polls until `f` returns a value other than undefined; bounded */
async function eventually<T>(f: () => Promise<T | undefined>, what: string, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function checkConfig(file: string) {
  requireBuild();
  const r = spawnSync(process.execPath, [LEGIOND, 'check-config', file], {
    encoding: 'utf8',
    timeout: 10_000,
  });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('legiond HTTP endpoints', () => {
  it('metrics and /lord/web follow a SIGKILL failover', async () => {
    lab = new Lab();
    const http = (i: number) => 48750 + i;
    const nodes = await lab.legion(48700, 3, (i) => ['--http', `127.0.0.1:${http(i)}`, '--on', 'lord=true']);
    // n2 joins once it hears n3; it may hear n1 a moment later
    const before2 = await eventually(async () => {
      const m = await metrics(http(1));
      return sample(m, 'legiond_members', { legion: 'web', role: 'member', state: 'alive' }) === 3
        ? m
        : undefined;
    }, 'three members alive on n2');
    const before3 = await metrics(http(2));
    expect(sample(before3, 'legiond_is_lord', { legion: 'web' })).toBe(1);
    expect(sample(before2, 'legiond_is_lord', { legion: 'web' })).toBe(0);
    expect(sample(before2, 'legiond_epoch', { legion: 'web' })).toBe(1);
    expect(sample(before2, 'legiond_members', { legion: 'web', role: 'member', state: 'alive' })).toBe(3);
    expect(sample(before2, 'legiond_valor', { legion: 'web', kind: 'base' })).toBe(200);
    expect(sample(before2, 'legiond_packets_received_total', { legion: 'web' })).toBeGreaterThan(0);
    expect(sample(before2, 'process_cpu_user_seconds_total')).toBeGreaterThan(0);
    const changesBefore = total(before2, 'legiond_lord_changes_total', { legion: 'web' });
    expect(changesBefore).toBeGreaterThanOrEqual(1);
    const lordBefore = JSON.parse((await get(http(0), '/lord/web')).body);
    expect(lordBefore).toMatchObject({ legion: 'web', lord: { name: 'n3', epoch: '1' } });

    const since = nodes[1]!.mark();
    nodes[2]!.kill('SIGKILL');
    await nodes[1]!.waitEvent('lord', 8000, since);

    const after = await eventually(async () => {
      const m = await metrics(http(1));
      return sample(m, 'legiond_hook_runs_total', { legion: 'web', event: 'lord', outcome: 'ok' }) === 1
        ? m
        : undefined;
    }, 'the lord hook of n2 in its metrics');
    expect(sample(after, 'legiond_is_lord', { legion: 'web' })).toBe(1);
    expect(sample(after, 'legiond_epoch', { legion: 'web' })).toBe(2);
    expect(total(after, 'legiond_lord_changes_total', { legion: 'web' })).toBeGreaterThan(changesBefore);
    expect(sample(after, 'legiond_hook_duration_seconds_count', { legion: 'web', event: 'lord' })).toBe(1);
    // n3 is gone from the members once its silence passed the tolerance
    const members = await eventually(async () => {
      const m = await metrics(http(1));
      const n = sample(m, 'legiond_members', { legion: 'web', role: 'member', state: 'alive' });
      return n === 2 ? n : undefined;
    }, 'two members alive');
    expect(members).toBe(2);
    const third = await metrics(http(0));
    expect(sample(third, 'legiond_is_lord', { legion: 'web' })).toBe(0);
    expect(sample(third, 'legiond_epoch', { legion: 'web' })).toBe(2);
    const lordAfter = await eventually(async () => {
      const b = JSON.parse((await get(http(0), '/lord/web')).body);
      return b.lord?.name === 'n2' ? b : undefined;
    }, '/lord/web to name n2');
    expect(lordAfter).toMatchObject({ legion: 'web', lord: { name: 'n2', epoch: '2', scroll: '' } });
    expect(lordAfter.lord.uuid).toMatch(/^[0-9a-f-]{36}$/);
  }, 40_000);

  it('/readyz is 503 before the join and 200 after; bad requests get errors, never a crash', async () => {
    lab = new Lab();
    const port = 48760;
    const n = lab.legiond(
      'n1',
      lab.nodeArgs({
        legion: 'web',
        base: 48710,
        i: 0,
        n: 2,
        valor: 100,
        extra: ['--insecure', '--http', `127.0.0.1:${port}`, '--interval', '3s', '--tolerance', '9s'],
      }),
    );
    await n.waitFor((l) => l.msg === 'http endpoints listening', 10_000, 'http listening');
    // alone, it joins when its startup grace (two intervals, 6 s) has passed
    const early = await get(port, '/readyz');
    expect(early.status).toBe(503);
    expect(JSON.parse(early.body)).toEqual({ ready: false, legions: { web: { joined: false } } });
    expect((await get(port, '/healthz')).status).toBe(200);

    expect((await get(port, '/nope')).status).toBe(404);
    expect(JSON.parse((await get(port, '/lord/nope')).body).error.code).toBe('ERR_UNKNOWN_LEGION');
    expect((await get(port, '/lord/%E0%A4%A')).status).toBe(404);
    expect((await get(port, '/lord/web/extra')).status).toBe(404);
    expect((await get(port, '/metrics', { method: 'POST' })).status).toBe(405);
    expect((await get(port, '//\\..%00')).status).toBe(404);

    const ready = await eventually(
      async () => {
        const r = await get(port, '/readyz');
        return r.status === 200 ? r : undefined;
      },
      '/readyz 200',
      15_000,
    );
    expect(JSON.parse(ready.body)).toEqual({ ready: true, legions: { web: { joined: true } } });
    expect(sample(await metrics(port), 'legiond_joined', { legion: 'web' })).toBe(1);
    expect(n.child.exitCode).toBeNull();
  }, 30_000);

  it('a bearer token: required off loopback at config load, and asked on every path when set', async () => {
    lab = new Lab();
    const cfg = (http: string) =>
      [
        `control: ${lab!.path('c.sock')}`,
        'http:',
        ...http.split('\n').map((l) => `  ${l}`),
        'legions:',
        '  - name: web',
        '    bind: 127.0.0.1:48720',
        '    peers: [127.0.0.1:48721]',
        '    insecure: true',
      ].join('\n');
    const file = lab.path('legiond.yaml');
    writeFileSync(file, cfg('listen: 0.0.0.0:48770'));
    const missing = checkConfig(file);
    expect(missing.code).not.toBe(0);
    expect(missing.out).toContain(file);
    expect(missing.out).toContain('http.token_file');
    expect(missing.out).toContain('not a loopback address');

    writeFileSync(file, cfg('listen: "[::1]:48770"'));
    expect(checkConfig(file).code).toBe(0);
    writeFileSync(file, cfg('listen: 127.0.0.2:48770'));
    expect(checkConfig(file).code).toBe(0);

    const token = lab.path('token');
    writeFileSync(token, 's3cret-token\n');
    chmodSync(token, 0o644);
    writeFileSync(file, cfg(`listen: 0.0.0.0:48770\ntoken_file: ${token}`));
    const open = checkConfig(file);
    expect(open.code).not.toBe(0);
    expect(open.out).toContain('http.token_file');
    expect(open.out).toContain('chmod 600');
    chmodSync(token, 0o600);
    expect(checkConfig(file).code).toBe(0);

    // served on loopback only, with the token asked all the same
    const port = 48771;
    writeFileSync(file, cfg(`listen: 127.0.0.1:${port}\ntoken_file: ${token}`));
    const n = lab.legiond('n1', ['--config', file]);
    await n.ready();
    for (const path of ['/metrics', '/healthz', '/readyz', '/lord/web', '/nope']) {
      const r = await get(port, path);
      expect(r.status, path).toBe(401);
      expect(r.headers['www-authenticate']).toContain('Bearer');
      expect((await get(port, path, { token: 'wrong' })).status, path).toBe(401);
    }
    expect((await get(port, '/metrics', { token: 's3cret-token' })).status).toBe(200);
    expect((await get(port, '/healthz', { token: 's3cret-token' })).status).toBe(200);
    expect((await get(port, '/nope', { token: 's3cret-token' })).status).toBe(404);
  }, 30_000);
});
