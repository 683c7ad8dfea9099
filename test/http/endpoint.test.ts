/**
 * HttpEndpoint on loopback (port 48790) over a fake legion and a hand-driven clock: /healthz
 * turns 503 when a legion stops stepping, lord changes are counted by reason from events and
 * from the view, hook runs land in the counter and the histogram.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { PublicEvent } from '../../src/daemon/legion-host.js';
import type { WorkEvent } from '../../src/daemon/legion-work.js';
import { createLogger } from '../../src/daemon/logger.js';
import type { HookResult } from '../../src/hooks/types.js';
import { HttpEndpoint } from '../../src/http/endpoint.js';
import type { EndpointLegion } from '../../src/http/tracked.js';
import type { LegionView, MemberInfo } from '../../src/legion/types.js';
import { get, sample, total } from '../helpers/http.js';

const PORT = 48790;

function member(name: string, self: boolean, extra: Partial<MemberInfo> = {}): MemberInfo {
  return {
    uuid: `00000000-0000-4000-8000-${name.padStart(12, '0')}`,
    name,
    valor: 100n,
    lord: false,
    arbiter: false,
    observer: false,
    draining: false,
    self,
    scroll: new Uint8Array(),
    lastSeenMs: 0,
    vote: null,
    epoch: 1n,
    ...extra,
  };
}

class FakeLegion {
  readonly name = 'web';
  readonly cfg = { intervalMs: 1000 } as EndpointLegion['cfg'];
  self = member('a', true);
  others: MemberInfo[] = [];
  lord: MemberInfo | null = null;
  epoch = 0n;
  stalls = 0;
  events: Array<(e: PublicEvent) => void> = [];
  work: Array<(e: WorkEvent) => void> = [];
  view(): LegionView {
    return {
      legion: 'web',
      self: this.self,
      lord: this.lord,
      epoch: this.epoch,
      quorum: 1,
      quorumMet: true,
      votes: 1,
      baseValor: 100n,
      valor: 100n,
      draining: false,
      drainingUntilMs: null,
      members: [this.self, ...this.others],
      phase: 'running',
      stalls: this.stalls,
    };
  }
  status() {
    return {
      counters: {
        packetsSent: 5,
        packetsReceived: 7,
        bytesSent: 50,
        bytesReceived: 70,
        accepted: 6,
        rejected: { ERR_AUTH: 1 },
      },
    } as unknown as ReturnType<EndpointLegion['status']>;
  }
  workStatus() {
    return { lord: false, daemons: [], cronRunning: false };
  }
  subscribe(l: (e: PublicEvent) => void) {
    this.events.push(l);
    return () => true;
  }
  subscribeWork(l: (e: WorkEvent) => void) {
    this.work.push(l);
    return () => true;
  }
  emit(type: string, lord: MemberInfo | null, reason?: string) {
    const e: PublicEvent = {
      legion: 'web',
      type,
      epoch: String(this.epoch),
      lord: lord ? { uuid: lord.uuid, name: lord.name } : null,
      ...(reason ? { reason } : {}),
      at: new Date().toISOString(),
    };
    for (const l of this.events) l(e);
  }
}

let endpoint: HttpEndpoint | null = null;
afterEach(async () => {
  await endpoint?.close();
  endpoint = null;
});

describe('HttpEndpoint', () => {
  it('health follows the steps, lord changes and hooks are counted', async () => {
    let now = 1000;
    endpoint = new HttpEndpoint({
      config: { listen: { host: '127.0.0.1', port: PORT }, tokenFile: null },
      logger: createLogger({ level: 'silent' }),
      now: () => now,
    });
    await endpoint.listen();
    const legion = new FakeLegion();
    const fake = legion as unknown as EndpointLegion;
    endpoint.legionRunning(fake);
    expect((await get(PORT, '/healthz')).status).toBe(200);
    expect((await get(PORT, '/lord/web')).body).toBe('{"legion":"web","lord":null}\n');
    // three intervals and the slack without a step: unhealthy
    now += 4001;
    const stale = await get(PORT, '/healthz');
    expect(stale.status).toBe(503);
    expect(JSON.parse(stale.body).legions.web).toMatchObject({
      ok: false,
      lastStepAgeMs: 4001,
      limitMs: 4000,
    });
    endpoint.stepped(fake);
    expect((await get(PORT, '/healthz')).status).toBe(200);

    // a lord seen through an event, a change seen only in the view, a loss with its reason
    const b = member('b', false);
    legion.others = [b];
    legion.lord = b;
    legion.epoch = 1n;
    legion.emit('node-joined', b);
    const c = member('c', false);
    legion.others = [b, c];
    legion.lord = c;
    legion.epoch = 2n;
    now += 200;
    endpoint.stepped(fake);
    legion.emit('node-left', null, 'timeout');
    legion.lord = null;
    legion.emit('node-left', null, 'something-new');
    legion.stalls = 2;
    const result = {
      event: 'lord',
      command: 'true',
      ok: false,
      exitCode: null,
      timedOut: true,
      durationMs: 1500,
    };
    for (const w of legion.work) {
      w({ kind: 'hook', result: result as HookResult });
      w({ kind: 'daemon', change: 'start' });
      w({ kind: 'daemon', change: 'exit' });
      w({ kind: 'daemon', change: 'start' });
      w({ kind: 'cron', ok: true, timedOut: false, durationMs: 10 });
    }
    const m = (await get(PORT, '/metrics')).body;
    expect(sample(m, 'legiond_lord_changes_total', { legion: 'web', reason: 'node-joined' })).toBe(1);
    expect(sample(m, 'legiond_lord_changes_total', { legion: 'web', reason: 'election' })).toBe(1);
    expect(sample(m, 'legiond_lord_changes_total', { legion: 'web', reason: 'timeout' })).toBe(1);
    expect(
      sample(m, 'legiond_lord_changes_total', { legion: 'web', reason: 'something-new' }),
    ).toBeUndefined();
    expect(total(m, 'legiond_lord_changes_total', { legion: 'web' })).toBe(3);
    expect(sample(m, 'legiond_members', { legion: 'web', role: 'member', state: 'alive' })).toBe(3);
    expect(sample(m, 'legiond_epoch', { legion: 'web' })).toBe(2);
    expect(sample(m, 'legiond_event_loop_stalls_total', { legion: 'web' })).toBe(2);
    expect(sample(m, 'legiond_packets_dropped_total', { legion: 'web', reason: 'ERR_AUTH' })).toBe(1);
    expect(sample(m, 'legiond_hook_runs_total', { legion: 'web', event: 'lord', outcome: 'timeout' })).toBe(
      1,
    );
    expect(sample(m, 'legiond_hook_duration_seconds_bucket', { legion: 'web', event: 'lord', le: '1' })).toBe(
      0,
    );
    expect(
      sample(m, 'legiond_hook_duration_seconds_bucket', { legion: 'web', event: 'lord', le: '2.5' }),
    ).toBe(1);

    expect(sample(m, 'legiond_workload_daemon_changes_total', { legion: 'web', change: 'start' })).toBe(2);
    expect(sample(m, 'legiond_workload_daemon_changes_total', { legion: 'web', change: 'exit' })).toBe(1);
    expect(sample(m, 'legiond_cron_runs_total', { legion: 'web', outcome: 'ok' })).toBe(1);

    endpoint.legionLeaving(fake);
    expect((await get(PORT, '/healthz')).status).toBe(503);
    expect((await get(PORT, '/readyz')).status).toBe(503);
    expect((await get(PORT, '/lord/web')).status).toBe(404);
  });

  it('a port in use is ERR_HTTP_IN_USE naming the address', async () => {
    const opts = {
      config: { listen: { host: '127.0.0.1', port: PORT }, tokenFile: null },
      logger: createLogger({ level: 'silent' }),
    };
    endpoint = new HttpEndpoint(opts);
    await endpoint.listen();
    await expect(new HttpEndpoint(opts).listen()).rejects.toMatchObject({
      code: 'ERR_HTTP_IN_USE',
      message: expect.stringContaining(`127.0.0.1:${PORT}`),
    });
  });
});
