import { isDeepStrictEqual } from 'node:util';
import type { LegionConfig } from '../config/types.js';
import {
  CronRunner,
  type CronSchedule,
  DaemonSupervisor,
  type GuardedSpawner,
  type HookLogger,
  HookRunner,
  type HookTimers,
  type Spawner,
  ValorChecks,
  viewContext,
} from '../hooks/index.js';
import { LeaseCell } from '../hooks/lease.js';
import type { LegionEvent, LegionView, WorkLease } from '../legion/types.js';

/**
 * Taken off the core's fence before the guards see it: covers the guard's timer (it acts within
 * ~10 ms of a deadline), the pipe, and a successor's spawn being quicker than ours to die.
 */
export const FENCE_MARGIN_MS = 100;

/**
 * How long before the fence a guard sends SIGTERM (SIGKILL comes at the fence). It must stay below
 * the smallest distance to the fence in normal operation, or guards would stop healthy work. The
 * fence moves at each announce this node sends (at most interval·(1+jitter) apart) to tolerance
 * ahead; with a quorum, at each vote it receives to the lease of votes ahead, and one round of
 * votes lost to the network must not stop the work. A successor waits lord_delay, which adds room.
 * A daemon's own `grace` still applies in full to every stop legiond makes itself; this bounds
 * only the stop after a crash or a pause of legiond.
 */
export function fenceGraceCapMs(cfg: LegionConfig): number {
  const period = cfg.intervalMs * (1 + cfg.jitter);
  const leaseOfVotes = Math.max(cfg.intervalMs, cfg.toleranceMs - 1.2 * cfg.intervalMs);
  const room =
    (cfg.quorum > 1 ? leaseOfVotes - 2 * period : cfg.toleranceMs - period) +
    cfg.lordDelayMs -
    FENCE_MARGIN_MS;
  return Math.max(0, Math.min(cfg.intervalMs, Math.floor(room)));
}

/** the longest a stop of lord-only work takes: the largest grace of a daemon, or a cron run's 1 s */
export function workStopBoundMs(cfg: LegionConfig): number {
  return Math.max(1000, ...cfg.daemons.map((d) => d.graceMs));
}

export interface LegionWorkOptions {
  config: LegionConfig;
  logger: HookLogger;
  view: () => LegionView;
  /** monotonic ms, the clock the core's lease is on */
  now: () => number;
  stateDir: string | null;
  onLordHookFailed: (stepdownMs: number) => void;
  /** the total weight of failing valor checks changed; the core owns the valor (effectiveValor in legion/types.ts) */
  onValorPenalty: (penalty: bigint) => void;
  /**
   * What the work runs on; default the system's (real processes, the bash guard, real timers,
   * croner). The simulator passes virtual ones, and `schedule: timerSchedule(timers)` with them:
   * `timers` alone leaves cron on croner's real timers.
   */
  spawner?: Spawner;
  guarded?: GuardedSpawner;
  timers?: HookTimers;
  schedule?: CronSchedule;
}

/**
 * Everything a legion runs on this host because of its events: hooks (serial, in event order),
 * the lord-only work (cron runs and attached daemons, each under a guard bound to the lease), and
 * valor checks.
 *
 * Ordering is the point: lord-only work is started and stopped by tasks queued among the hooks,
 * so the workload stops before the unlord hooks run (which may, say, drop the VIP) and starts
 * only after the lord hooks have finished (which took it). The core's release waits for that
 * queue to drain, so a successor is not elected while this node's workload still runs.
 */
export class LegionWork {
  readonly lease: LeaseCell;
  private readonly hooks: HookRunner;
  private cron: CronRunner;
  private daemons: DaemonSupervisor;
  private checks: ValorChecks;
  private cfg: LegionConfig;
  private lord = false;
  private closed = false;

  constructor(private readonly o: LegionWorkOptions) {
    this.cfg = o.config;
    this.lease = new LeaseCell(o.now);
    this.hooks = new HookRunner({
      legion: o.config.name,
      timeoutMs: o.config.hookTimeoutMs,
      logger: o.logger,
      spawner: o.spawner,
      onResult: (r) => {
        const failure = this.cfg.lordHookFailure;
        if (r.event === 'lord' && !r.ok && failure && this.lord) {
          o.logger.warn({ stepdownMs: failure.stepdownMs }, 'lord hook failed; stepping down for a while');
          o.onLordHookFailed(failure.stepdownMs);
        }
      },
    });
    this.cron = this.makeCron(this.cfg);
    this.daemons = this.makeDaemons(this.cfg);
    this.checks = this.makeChecks(this.cfg);
    const cap = fenceGraceCapMs(this.cfg);
    for (const d of this.cfg.daemons.filter((e) => e.graceMs > cap))
      o.logger.info(
        { daemon: d.command, graceMs: d.graceMs, fenceGraceMs: cap },
        'if legiond dies or stalls, this daemon gets fenceGraceMs between SIGTERM and SIGKILL (raise lord_delay for more)',
      );
  }

  private makeCron(cfg: LegionConfig): CronRunner {
    return new CronRunner({
      legion: cfg.name,
      entries: cfg.cron,
      lease: this.lease,
      fenceGraceMs: fenceGraceCapMs(cfg),
      stateDir: this.o.stateDir,
      context: () => viewContext(this.o.view(), 'cron'),
      logger: this.o.logger,
      guarded: this.o.guarded,
      schedule: this.o.schedule,
    });
  }

  private makeDaemons(cfg: LegionConfig): DaemonSupervisor {
    return new DaemonSupervisor({
      legion: cfg.name,
      entries: cfg.daemons,
      lease: this.lease,
      fenceGraceMs: fenceGraceCapMs(cfg),
      stateDir: this.o.stateDir,
      context: () => viewContext(this.o.view(), 'daemon'),
      logger: this.o.logger,
      guarded: this.o.guarded,
      timers: this.o.timers,
    });
  }

  private makeChecks(cfg: LegionConfig): ValorChecks {
    const checks: ValorChecks = new ValorChecks({
      legion: cfg.name,
      entries: cfg.checks,
      logger: this.o.logger,
      context: () => viewContext(this.o.view(), 'check'),
      onChange: (penalty) => this.o.onValorPenalty(penalty),
      spawner: this.o.spawner,
      timers: this.o.timers,
    });
    return checks;
  }

  /** the core's lease after a step; the guards and spawn checks see it with the margin off */
  onLease(lease: WorkLease | null): void {
    this.lease.set(lease === null ? null : { ...lease, fenceAtMs: lease.fenceAtMs - FENCE_MARGIN_MS });
  }

  checkStates() {
    return this.checks.states().map((c) => ({
      command: typeof c.command === 'string' ? c.command : c.command.join(' '),
      state: c.state,
      consecutiveOk: c.consecutiveOk,
      consecutiveFail: c.consecutiveFail,
      lastExitCode: c.lastExitCode,
    }));
  }

  workStatus() {
    return { lord: this.lord, daemons: this.daemons.status(), cronRunning: this.cron.busy };
  }

  startChecks(): void {
    this.checks.start();
    this.cron.start();
  }

  onEvent(ev: LegionEvent): void {
    // Without cron or daemons configured the tasks would stop and start nothing; a reload that
    // adds or removes some queues its own replacement among the hooks (reconfigure).
    const cfg = this.cfg;
    const work = cfg.cron.length > 0 || cfg.daemons.length > 0;
    if (ev.type === 'unlord' || ev.type === 'death') {
      this.lord = false;
      if (work) this.hooks.enqueueTask('stop lord-only work', () => this.stopWork());
    }
    this.hooks.enqueue(ev, cfg.hooks[ev.type]);
    if (ev.type === 'lord') {
      this.lord = true;
      if (cfg.daemons.length > 0)
        this.hooks.enqueueTask('start attached daemons', async () => {
          // the supervisor checks the lease again at each spawn
          if (this.lord && !this.closed) this.daemons.start();
        });
    }
  }

  /** every hook and work task queued so far has finished */
  drained(): Promise<void> {
    return this.hooks.drained();
  }

  /** `drained` as a callback: `done` runs at once, inside the call, when nothing is queued */
  whenDrained(done: () => void): void {
    if (this.hooks.idle) done();
    else void this.hooks.drained().then(done);
  }

  stopBoundMs(): number {
    return workStopBoundMs(this.cfg);
  }

  /**
   * SIGHUP. Hooks and timeouts apply to what starts from now on. Changed cron entries, daemons or
   * checks are replaced: the new set starts under the same lease, after the old set has stopped
   * (queued among the hooks, so a reload cannot slip a second workload past an unlord).
   */
  reconfigure(cfg: LegionConfig): string[] {
    const prev = this.cfg;
    this.cfg = cfg;
    this.hooks.setTimeoutMs(cfg.hookTimeoutMs);
    const changed: string[] = [];
    if (!isDeepStrictEqual(prev.cron, cfg.cron)) {
      changed.push('cron');
      const old = this.cron;
      this.cron = this.makeCron(cfg);
      void old.stop().then(() => {
        if (!this.closed) this.cron.start();
      });
    }
    if (!isDeepStrictEqual(prev.daemons, cfg.daemons)) {
      changed.push('daemons');
      const old = this.daemons;
      const next = this.makeDaemons(cfg);
      this.hooks.enqueueTask('replace attached daemons', async () => {
        await old.stop();
        this.daemons = next;
        if (this.lord && !this.closed) next.start();
      });
    }
    if (!isDeepStrictEqual(prev.checks, cfg.checks)) {
      changed.push('checks');
      const old = this.checks;
      this.checks = this.makeChecks(cfg);
      void old.stop();
      this.checks.start();
      this.o.onValorPenalty(this.checks.penalty());
    }
    return changed;
  }

  private async stopWork(): Promise<void> {
    await Promise.all([this.cron.stopRuns(), this.daemons.stop()]);
  }

  /** before a departure: the lord-only workload ends first */
  async stopLordWork(): Promise<void> {
    this.lord = false;
    await Promise.all([this.cron.stop(), this.daemons.stop(), this.checks.stop()]);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.stopLordWork();
    await this.hooks.close();
  }
}
