/**
 * The hook classes on virtual processes and virtual time (fakes.ts): what the simulator relies
 * on. Every time asserted is exact, since nothing here waits on a real clock.
 */
import { describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { LegionWork } from '../../src/daemon/legion-work.js';
import type { Logger } from '../../src/daemon/logger.js';
import {
  CronRunner,
  DaemonSupervisor,
  type HookResult,
  HookRunner,
  LeaseCell,
  timerSchedule,
  ValorChecks,
  type WorkLease,
} from '../../src/hooks/index.js';
import type { LegionView } from '../../src/legion/types.js';
import { effectiveValor } from '../../src/legion/types.js';
import { FakeSpawner, FakeTimers, fakeGuard, settle } from './fakes.js';
import { legionEvent, OTHER, recordingLogger, SELF } from './helpers.js';

const context = () => ({ env: { LEGION_NAME: 'web' }, stdin: '' });
const far = (epoch = 12n): WorkLease => ({ epoch, fenceAtMs: 3_600_000, mayStart: true });

function leaseOn(timers: FakeTimers, lease: WorkLease | null = far()): LeaseCell {
  const cell = new LeaseCell(() => timers.now());
  cell.set(lease);
  return cell;
}

describe('HookRunner on a fake spawner', () => {
  it('runs hooks one at a time in event order, tasks in their place, each with its event', async () => {
    const timers = new FakeTimers();
    const spawner = new FakeSpawner(timers, (p) => p.exitAfter(100, p.text === 'fail' ? 3 : 0));
    const results: HookResult[] = [];
    const tasks: number[] = [];
    const r = new HookRunner({
      legion: 'web',
      timeoutMs: 5000,
      logger: recordingLogger(),
      spawner,
      onResult: (x) => results.push(x),
    });
    r.enqueue(legionEvent('lord'), ['a', 'fail']);
    r.enqueueTask('between', async () => {
      tasks.push(timers.now());
    });
    r.enqueue(legionEvent('unlord'), [['c', 'arg']]);
    // enqueue never runs a hook inside the call
    expect(spawner.procs).toHaveLength(0);
    await settle();
    expect(spawner.procs).toHaveLength(1);
    await timers.advance(1000);
    await r.drained();
    expect(spawner.procs.map((p) => [p.text, p.startedAt, p.opts.env.LEGION_EVENT])).toEqual([
      ['a', 0, 'lord'],
      ['fail', 100, 'lord'],
      ['c arg', 200, 'unlord'],
    ]);
    expect(tasks).toEqual([200]);
    expect(results.map((x) => [x.event, x.ok, x.exitCode, x.durationMs])).toEqual([
      ['lord', true, 0, 100],
      ['lord', false, 3, 100],
      ['unlord', true, 0, 100],
    ]);
    expect(JSON.parse(spawner.procs[0]!.opts.stdin ?? '').map((m: { name: string }) => m.name)).toEqual([
      SELF.name,
      OTHER.name,
    ]);
  });

  it('a hook past its timeout is killed and the next one starts then; close() drops the queue', async () => {
    const timers = new FakeTimers();
    // 'hang' never exits on its own
    const spawner = new FakeSpawner(timers, (p) => {
      if (p.text !== 'hang') p.exitAfter(10);
    });
    const results: HookResult[] = [];
    const r = new HookRunner({
      legion: 'web',
      timeoutMs: 300,
      logger: recordingLogger(),
      spawner,
      onResult: (x) => results.push(x),
    });
    r.enqueue(legionEvent('lord'), ['hang', 'next']);
    await timers.advance(1000);
    expect(spawner.procs.map((p) => [p.text, p.startedAt])).toEqual([
      ['hang', 0],
      ['next', 300],
    ]);
    expect(results[0]).toMatchObject({ ok: false, timedOut: true, signal: 'SIGTERM' });
    r.enqueue(legionEvent('unlord'), ['hang', 'dropped']);
    await settle();
    const closing = r.close();
    await timers.advance(10);
    await closing;
    expect(spawner.procs.map((p) => p.text)).toEqual(['hang', 'next', 'hang']);
    expect(spawner.procs[2]?.signals).toEqual(['SIGTERM']);
  });
});

describe('DaemonSupervisor on fake time', () => {
  function supervisor(timers: FakeTimers, spawner: FakeSpawner, lease = leaseOn(timers)) {
    const logger = recordingLogger();
    const s = new DaemonSupervisor({
      legion: 'web',
      entries: [{ command: 'daemon', graceMs: 100, restartBackoffMs: 100 }],
      lease,
      fenceGraceMs: 50,
      context,
      logger,
      timers,
      guarded: fakeGuard(spawner, timers),
    });
    const delays = () =>
      logger.entries.filter((e) => e.msg === 'daemon exited; restarting').map((e) => e.obj.restartInMs);
    return { s, logger, delays, lease };
  }

  it('restarts a daemon that exits after 1x, 2x, 4x, 8x the backoff, deterministically', async () => {
    const once = async () => {
      const timers = new FakeTimers();
      const spawner = new FakeSpawner(timers, (p) => p.exitAfter(10, 1));
      const { s, delays } = supervisor(timers, spawner);
      s.start();
      await timers.advance(2000);
      const seen = { starts: spawner.startsOf(), delays: delays(), restarts: s.status()[0]?.restarts };
      await s.stop();
      expect(timers.armed).toBe(0);
      return seen;
    };
    const first = await once();
    // each run lasts 10 ms; the restart comes backoff ms after the exit
    expect(first).toEqual({
      starts: [0, 110, 320, 730, 1540],
      delays: [100, 200, 400, 800, 1600],
      restarts: 5,
    });
    expect(await once()).toEqual(first);
  });

  it('a daemon that ran past resetAfterMs (on the timers clock) restarts with the initial backoff', async () => {
    const timers = new FakeTimers();
    const spawner = new FakeSpawner(timers, (p) => p.exitAfter(spawner.procs.length === 3 ? 60_000 : 10, 1));
    const { s, delays } = supervisor(timers, spawner);
    s.start();
    await timers.advance(61_000);
    // the third run lasts 60 s: the restart after it is 1x again, then 2x, 4x
    expect(spawner.startsOf()).toEqual([0, 110, 320, 60_420, 60_630]);
    expect(delays()).toEqual([100, 200, 100, 200, 400]);
    await s.stop();
  });

  it('the guard fences the daemon when the lease goes; the restart waits for the next lease', async () => {
    const timers = new FakeTimers();
    const spawner = new FakeSpawner(timers);
    const { s, logger, lease } = supervisor(timers, spawner);
    s.start();
    await timers.advance(500);
    lease.set(null);
    await timers.advance(500);
    expect(spawner.procs[0]?.signals).toEqual(['SIGTERM']);
    // the restart fell due at 600 with no lease
    expect(logger.entries.find((e) => e.msg === 'daemon start waits for the lease')?.obj.why).toBe(
      'not lord',
    );
    expect(spawner.startsOf()).toEqual([0]);
    lease.set({ epoch: 13n, fenceAtMs: timers.now() + 2000, mayStart: true });
    expect(spawner.startsOf()).toEqual([0, 1000]);
    // a workload that ignores SIGTERM: SIGTERM at fence - fenceGraceMs (2950), SIGKILL at the fence
    spawner.procs[1]!.onTerm = 'ignore';
    await timers.advance(1949);
    expect(spawner.procs[1]?.signals).toEqual([]);
    await timers.advance(1);
    expect(spawner.procs[1]?.signals).toEqual(['SIGTERM']);
    await timers.advance(50);
    expect(spawner.procs[1]?.signals).toEqual(['SIGTERM', 'SIGKILL']);
    await s.stop();
  });
});

describe('CronRunner with timerSchedule', () => {
  function cron(timers: FakeTimers, schedule: string, lease = leaseOn(timers)) {
    const spawner = new FakeSpawner(timers, (p) => p.exitAfter(100));
    const logger = recordingLogger();
    const runs: boolean[] = [];
    const c = new CronRunner({
      legion: 'web',
      entries: [{ schedule, command: 'tick', timeoutMs: 1000 }],
      lease,
      fenceGraceMs: 100,
      context,
      logger,
      schedule: timerSchedule(timers),
      guarded: fakeGuard(spawner, timers),
      onRun: (r) => runs.push(r.ok),
    });
    return { c, spawner, logger, runs, lease };
  }

  it('fires at the pattern times in fake wall time, and skips while the lease refuses', async () => {
    const timers = new FakeTimers();
    const { c, spawner, logger, runs, lease } = cron(timers, '*/2 * * * * *');
    c.start();
    await timers.advance(7000);
    expect(spawner.startsOf()).toEqual([2000, 4000, 6000]);
    expect(runs).toEqual([true, true, true]);
    expect(spawner.procs[0]?.opts.env.LEGION_EPOCH).toBe('12');
    lease.set({ ...far(), mayStart: false });
    await timers.advance(4000);
    expect(spawner.startsOf()).toEqual([2000, 4000, 6000]);
    const skipped = logger.entries
      .filter((e) => e.msg?.startsWith('cron tick skipped'))
      .map((e) => e.obj.why);
    expect(skipped).toEqual(['lease allows no new work', 'lease allows no new work']);
    lease.set(null);
    await timers.advance(2000);
    lease.set(far(13n));
    await timers.advance(2000);
    expect(spawner.startsOf()).toEqual([2000, 4000, 6000, 14_000]);
    expect(spawner.procs[3]?.opts.env.LEGION_EPOCH).toBe('13');
    await c.stop();
    // nothing left armed: the schedule is gone with its runs
    expect(timers.armed).toBe(0);
    await timers.advance(10_000);
    expect(spawner.procs).toHaveLength(4);
  });

  it('matches whole seconds or minutes of the wall clock, wherever it starts', async () => {
    const timers = new FakeTimers(Date.UTC(2030, 0, 1) + 1300);
    const seconds = cron(timers, '*/2 * * * * *');
    const minutes = cron(timers, '*/5 * * * *');
    seconds.c.start();
    minutes.c.start();
    await timers.advance(600_000);
    expect(seconds.spawner.startsOf().slice(0, 3)).toEqual([700, 2700, 4700]);
    expect(minutes.spawner.startsOf()).toEqual([298_700, 598_700]);
    await Promise.all([seconds.c.stop(), minutes.c.stop()]);
  });
});

describe('ValorChecks on fake time', () => {
  it('runs every intervalMs after the previous run, falls and rises on fake time', async () => {
    const timers = new FakeTimers();
    let code = 1;
    const spawner = new FakeSpawner(timers, (p) => {
      if (p.text === 'chk') p.exitAfter(50, code);
    });
    const changes: Array<[number, bigint]> = [];
    const checks = new ValorChecks({
      legion: 'web',
      entries: [
        { command: 'chk', intervalMs: 1000, timeoutMs: 200, weight: 30n, rise: 2, fall: 2 },
        { command: 'hang', intervalMs: 1000, timeoutMs: 200, weight: 5n, rise: 1, fall: 1 },
      ],
      logger: recordingLogger(),
      spawner,
      timers,
      onChange: (p) => changes.push([timers.now(), p]),
    });
    checks.start();
    await timers.advance(3000);
    expect(spawner.startsOf('chk')).toEqual([0, 1050, 2100]);
    // a hung check is killed at its timeout and counts as failed
    expect(spawner.startsOf('hang')).toEqual([0, 1200, 2400]);
    expect(changes).toEqual([
      [200, 5n],
      [1100, 35n],
    ]);
    code = 0;
    await timers.advance(3000);
    expect(spawner.startsOf('chk')).toEqual([0, 1050, 2100, 3150, 4200, 5250]);
    expect(changes.at(-1)).toEqual([4250, 5n]);
    expect(effectiveValor({ baseValor: 100n, valorPenalty: checks.penalty() })).toBe(95n);
    const stopping = checks.stop();
    await timers.advance(1000);
    await stopping;
    expect(timers.armed).toBe(0);
  });
});

describe('LegionWork on fakes', () => {
  it('hooks, daemons, cron and checks all run on the injected spawner, guard and timers', async () => {
    const config = parseConfigText(
      `legions:
  - name: web
    bind: 127.0.0.1:4242
    peers: ["127.0.0.1:4243"]
    insecure: true
    hooks: { lord: [lord-hook], unlord: [unlord-hook] }
    cron: [{ schedule: "*/2 * * * * *", command: tick }]
    daemons: [{ command: daemon, grace: 1s }]
    checks: [{ command: chk, interval: 1s, weight: 10 }]
`,
      'fake.yaml',
      { hostname: () => 'host-a' },
    ).legions[0]!;
    const timers = new FakeTimers();
    const spawner = new FakeSpawner(timers, (p) => {
      if (p.text !== 'daemon') p.exitAfter(p.text.endsWith('hook') ? 100 : 5);
    });
    const view = { legion: 'web', self: SELF, lord: SELF, epoch: 3n, members: [SELF, OTHER] } as LegionView;
    const work = new LegionWork({
      config,
      logger: recordingLogger() as unknown as Logger,
      view: () => view,
      now: () => timers.now(),
      stateDir: null,
      onLordHookFailed: () => {},
      onValorPenalty: () => {},
      spawner,
      guarded: fakeGuard(spawner, timers),
      timers,
      schedule: timerSchedule(timers),
    });
    work.onLease({ epoch: 3n, fenceAtMs: 3_600_000, mayStart: true });
    work.startChecks();
    work.onEvent(legionEvent('lord', { epoch: 3n }));
    await timers.advance(4500);
    expect(spawner.startsOf('hook')).toEqual([0]);
    // after the lord hook
    expect(spawner.startsOf('daemon')).toEqual([100]);
    expect(spawner.startsOf('tick')).toEqual([2000, 4000]);
    expect(spawner.startsOf('chk')).toEqual([0, 1005, 2010, 3015, 4020]);
    work.onEvent(legionEvent('unlord', { epoch: 3n }));
    await timers.advance(500);
    // the daemon is gone before the unlord hook starts
    expect(spawner.procs.find((p) => p.text === 'daemon')?.signals).toEqual(['SIGTERM']);
    expect(spawner.procs.filter((p) => p.text === 'unlord-hook').map((p) => p.startedAt)).toEqual([4500]);
    const closing = work.close();
    await timers.advance(2000);
    await closing;
    expect(timers.armed).toBe(0);
  });
});
