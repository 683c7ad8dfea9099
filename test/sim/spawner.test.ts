/**
 * Virtual processes and guards (sim/spawner.ts) against the GuardedSpawner contract of
 * src/hooks/guard.ts, on a bare virtual clock: SIGTERM at fence − fenceGraceMs and SIGKILL at the
 * fence, a renewal after the SIGTERM only brings the SIGKILL sooner, legiond's death means SIGTERM
 * at once and SIGKILL a fence grace later, and exits reach legiond only while it runs.
 */
import { describe, expect, it } from 'vitest';
import type { HostTimerEvent } from '../../sim/events.js';
import type { Behaviour, LegiondSide } from '../../sim/spawner.js';
import { VirtualHost } from '../../sim/spawner.js';
import type { TraceRecord } from '../../sim/trace.js';
import { VirtualTime } from '../../sim/virtual.js';
import type { Scheduler } from '../../src/daemon/scheduler.js';
import { LeaseCell } from '../../src/hooks/lease.js';
import type { RunOptions } from '../../src/hooks/process.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function harness(b: Partial<Behaviour> = {}, ignoreFence = false) {
  const time = new VirtualTime();
  const trace: TraceRecord[] = [];
  const host = new VirtualHost(
    {
      slot: 0,
      now: () => time.now,
      setTimer: (fn, ms) => {
        const ev: HostTimerEvent = { k: 'host', slot: 0, fn, live: true };
        time.at(time.now + ms, () => {
          if (ev.live) fn();
        });
        return ev;
      },
      clearTimer: (ev) => {
        ev.live = false;
      },
      record: (r) => trace.push(r),
      behaviour: () => ({ work: 'daemon', runMs: null, exitCode: 1, termMs: 0, ...b }),
    },
    { ignoreFence },
  );
  // legiond: its timers wait while it is paused, and so do the exits that reach it
  let paused = false;
  const waiting: (() => void)[] = [];
  const scheduler: Scheduler<{ live: boolean }> = {
    mono: () => time.now,
    wall: () => time.now,
    rand: () => 0,
    setTimer: (fn, ms) => {
      const handle = { live: true };
      time.at(time.now + ms, () => {
        const run = () => handle.live && fn();
        if (paused) waiting.push(run);
        else run();
      });
      return handle;
    },
    clearTimer: (handle) => {
      handle.live = false;
    },
  };
  const legiond: LegiondSide = {
    inc: 1,
    uuid: 'u1',
    scheduler,
    deliver: (fn) => (paused ? waiting.push(fn) : fn()),
  };
  const lease = new LeaseCell(() => time.now);
  const opts: RunOptions = {
    env: { LEGION_EPOCH: '7' },
    stdin: null,
    timeoutMs: null,
    killGraceMs: 1000,
    logger: quiet,
    logFields: {},
  };
  const spawner = host.spawner(legiond);
  const exits = () => trace.flatMap((r) => (r.kind === 'proc' && r.op === 'exit' ? [`${r.t} ${r.how}`] : []));
  return {
    time,
    host,
    lease,
    spawner,
    trace,
    exits,
    guarded: (fenceGraceMs: number) =>
      spawner.runGuarded(['sim-daemon', '0'], { ...opts, lease, fenceGraceMs }),
    run: (o: Partial<RunOptions> = {}) => spawner.run(['sim-hook'], { ...opts, ...o }),
    pause: () => {
      paused = true;
    },
    resume: () => {
      paused = false;
      for (const fn of waiting.splice(0)) fn();
    },
  };
}

const settle = () => new Promise((r) => setImmediate(r));

describe('virtual guard', () => {
  it('SIGTERM at fence − grace, SIGKILL at the fence; a workload slow to exit is killed', () => {
    const h = harness({ termMs: 5000 });
    h.lease.set({ epoch: 7n, fenceAtMs: 1000, mayStart: true });
    h.guarded(300);
    h.time.runUntil(10_000);
    // SIGTERM at 700 would end it at 5700: the SIGKILL at the fence comes first
    expect(h.exits()).toEqual(['1000 SIGKILL']);
    const start = h.trace.find((r) => r.kind === 'proc' && r.op === 'start');
    expect(start).toMatchObject({ work: 'daemon', epoch: 7n, uuid: 'u1', t: 0 });
  });

  it('follows renewals; after its SIGTERM a renewal can only bring the SIGKILL sooner', () => {
    const h = harness({ termMs: 5000 });
    h.lease.set({ epoch: 7n, fenceAtMs: 1000, mayStart: true });
    h.guarded(300);
    h.time.runUntil(500);
    h.lease.set({ epoch: 7n, fenceAtMs: 2000, mayStart: true });
    h.time.runUntil(1800); // SIGTERM at 1700
    h.lease.set({ epoch: 7n, fenceAtMs: 9000, mayStart: true });
    h.time.runUntil(10_000);
    expect(h.exits()).toEqual(['2000 SIGKILL']);
  });

  it('a workload that exits on SIGTERM ends at fence − grace; a null lease kills at once', () => {
    const h = harness();
    h.lease.set({ epoch: 7n, fenceAtMs: 1000, mayStart: true });
    h.guarded(300);
    const second = h.guarded(300);
    h.time.runUntil(100);
    void second.terminate();
    h.time.runUntil(10_000);
    expect(h.exits()).toEqual(['100 SIGTERM', '700 SIGTERM']);
    const k = harness();
    k.lease.set({ epoch: 7n, fenceAtMs: 1000, mayStart: true });
    k.guarded(300);
    k.time.runUntil(200);
    k.lease.set(null);
    k.time.runUntil(10_000);
    expect(k.exits()).toEqual(['200 SIGKILL']);
  });

  it("legiond's death: SIGTERM at once, SIGKILL a fence grace later (or at the fence)", () => {
    const h = harness({ termMs: 5000 });
    h.lease.set({ epoch: 7n, fenceAtMs: 10_000, mayStart: true });
    h.guarded(300);
    h.time.runUntil(1000);
    h.host.legiondGone(1);
    h.time.runUntil(20_000);
    expect(h.exits()).toEqual(['1300 SIGKILL']);
    const q = harness({ termMs: 100 });
    q.lease.set({ epoch: 7n, fenceAtMs: 10_000, mayStart: true });
    q.guarded(300);
    q.time.runUntil(1000);
    q.host.legiondGone(1);
    q.time.runUntil(20_000);
    expect(q.exits()).toEqual(['1100 SIGTERM']);
  });

  it('a paused legiond does not pause its processes; their exit reaches it on resume', async () => {
    const h = harness({ runMs: 500, exitCode: 0 });
    h.lease.set({ epoch: 7n, fenceAtMs: 10_000, mayStart: true });
    const p = h.guarded(300);
    let seen: number | null = null;
    void p.done.then(() => {
      seen = h.time.now;
    });
    h.pause();
    h.time.runUntil(2000);
    await settle();
    expect(h.exits()).toEqual(['500 exit 0']);
    expect(seen).toBeNull();
    h.resume();
    await settle();
    expect(seen).toBe(2000);
  });

  it("legiond's own timers (a timeout, the kill grace) wait while it is paused", () => {
    const h = harness({ runMs: 10_000, termMs: 50_000 });
    h.run({ timeoutMs: 1000 });
    h.pause();
    h.time.runUntil(3000);
    expect(h.exits()).toEqual([]);
    h.resume();
    h.time.runUntil(3000); // the overdue timeout fires: SIGTERM; the SIGKILL comes a kill grace later
    h.time.runUntil(5000);
    expect(h.exits()).toEqual(['4000 SIGKILL, timed out']);
  });

  it('ignoreFence (the contract broken on purpose): the workload outlives the fence', () => {
    const h = harness({}, true);
    h.lease.set({ epoch: 7n, fenceAtMs: 1000, mayStart: true });
    h.guarded(300);
    h.time.runUntil(10_000);
    expect(h.exits()).toEqual([]);
    expect(h.host.running).toBe(1);
  });
});
