/**
 * One legion's core runner and its lord-only work, wired together the one way both the daemon
 * (LegionHost) and the simulator (sim/host.ts) run them. The runner's sink hands every event to
 * the lord-only work, waits for its queue on `await-hooks`, and publishes the lease after every
 * step; a departing lord waits up to the hold timeout plus the workload's stop bound, both read
 * at each wait so that a reload applies.
 *
 * What differs between the two is only what the work runs on (`hookEnv`: processes, the guard,
 * timers, the cron schedule) and time (`scheduler`): the daemon's real ones by default.
 */
import { hostname } from 'node:os';
import type { LegionConfig } from '../config/types.js';
import {
  type CronSchedule,
  type GuardedSpawner,
  type HookTimers,
  type Spawner,
  timerSchedule,
  timersFrom,
} from '../hooks/index.js';
import type { LegionEvent, LegionParams, Machine } from '../legion/types.js';
import type { Transport } from '../transport/types.js';
import { LegionRunner, type RunnerLogger } from './legion-runner.js';
import { LegionWork, type WorkEvent } from './legion-work.js';
import { type Clock, type Scheduler, systemScheduler, withSystemTimers } from './scheduler.js';
import type { WireCodec } from './wire.js';

/** What lord-only work runs on; each one left out is the system's (or the scheduler's, see below). */
export interface HookEnv {
  spawner?: Spawner;
  guarded?: GuardedSpawner;
  timers?: HookTimers;
  schedule?: CronSchedule;
}

export interface LegionNodeOptions<S, P> {
  config: LegionConfig;
  uuid: string;
  machine: Machine<S, P>;
  codec: WireCodec<P>;
  transport: Transport;
  initialEpoch: bigint;
  /** already bound to the legion */
  logger: RunnerLogger;
  /**
   * Time, randomness and timers. Given (and not the system's), lord-only work runs its timers and
   * its cron schedule on it too; otherwise on the system's timers and croner's own.
   */
  scheduler?: Scheduler;
  /** time and randomness on the system's timers, when no `scheduler` is given */
  clock?: Clock;
  stateDir: string | null;
  hookEnv?: HookEnv;
  /** the core's init parameters from the common ones (Protocol.initParams); the common ones when left out */
  initParams?: (common: LegionParams) => LegionParams;
  /** every event the core emits, before lord-only work hears of it */
  onEvent?: (event: LegionEvent) => void;
  /** the runner gave up waiting for the hooks at the hold timeout */
  onHoldTimeout?: () => void;
  /** what the hooks and the lord-only work did (metrics) */
  onWork?: (event: WorkEvent) => void;
  /** a failed lord hook made the node step down for `stepdownMs` */
  onLordHookFailed?: (stepdownMs: number) => void;
  /** after every step (observers: the simulator) */
  onStep?: (state: S, wakeAt: number) => void;
  repeatSpacingMs?: number;
}

/** The core's parameters that come from the config file (identity and epoch aside). */
export function legionTunables(cfg: LegionConfig, valor: bigint) {
  return {
    name: cfg.nodeName || hostname(),
    valor,
    quorum: cfg.quorum,
    intervalMs: cfg.intervalMs,
    toleranceMs: cfg.toleranceMs,
    jitter: cfg.jitter,
    preempt: cfg.preempt,
    preemptDelayMs: cfg.preemptDelayMs,
    lordDelayMs: cfg.lordDelayMs,
    scroll: cfg.scroll,
    observer: cfg.observer,
  };
}

/**
 * What the owner of a legion drives, whatever its core's state and packet types: a
 * LegionNode<S, P> is one for every S and P, which LegionNode<unknown, unknown> is not (its
 * runner's packet callbacks take P).
 */
export interface RunningLegion {
  readonly params: LegionParams;
  readonly work: LegionWork;
  readonly runner: Pick<
    LegionRunner<unknown, unknown>,
    'view' | 'command' | 'counters' | 'replaceTransport' | 'transportStats' | 'workLease'
  >;
  start(): void;
  setValor(base: bigint): void;
  reconfigure(cfg: LegionConfig): string[];
  leave(): Promise<void>;
  close(): Promise<void>;
}

/** A legion's runner and lord-only work, wired; see the module comment. */
export class LegionNode<S, P> implements RunningLegion {
  readonly runner: LegionRunner<S, P>;
  readonly work: LegionWork;
  readonly params: LegionParams;
  private cfg: LegionConfig;

  constructor(o: LegionNodeOptions<S, P>) {
    this.cfg = o.config;
    const scheduler = o.scheduler ?? (o.clock ? withSystemTimers(o.clock) : systemScheduler);
    const virtual = o.scheduler !== undefined && o.scheduler !== systemScheduler;
    const env = o.hookEnv ?? {};
    const timers = env.timers ?? (virtual ? timersFrom(scheduler) : undefined);
    const schedule = env.schedule ?? (virtual && timers ? timerSchedule(timers) : undefined);
    this.work = new LegionWork({
      config: o.config,
      logger: o.logger,
      now: () => scheduler.mono(),
      stateDir: o.stateDir,
      view: () => this.runner.view(),
      onLordHookFailed: (stepdownMs) => {
        o.onLordHookFailed?.(stepdownMs);
        this.runner.command({ type: 'hook-failed', event: 'lord', stepdownMs });
      },
      onValorPenalty: (penalty) => this.runner.command({ type: 'set-penalty', penalty }),
      ...(o.onWork ? { onWork: o.onWork } : {}),
      ...(env.spawner ? { spawner: env.spawner } : {}),
      ...(env.guarded ? { guarded: env.guarded } : {}),
      ...(timers ? { timers } : {}),
      ...(schedule ? { schedule } : {}),
    });
    const common: LegionParams = {
      legion: o.config.name,
      uuid: o.uuid,
      ...legionTunables(o.config, o.config.valor),
      initialEpoch: o.initialEpoch,
    };
    this.params = o.initParams ? o.initParams(common) : common;
    const work = this.work;
    this.runner = new LegionRunner<S, P>({
      params: this.params,
      machine: o.machine,
      codec: o.codec,
      transport: o.transport,
      scheduler,
      logger: o.logger,
      // a release waits for the workload to stop (up to its grace) and then for the unlord hooks
      holdTimeoutMs: () => this.cfg.holdTimeoutMs + work.stopBoundMs(),
      ...(o.repeatSpacingMs !== undefined ? { repeatSpacingMs: o.repeatSpacingMs } : {}),
      ...(o.onStep ? { onStep: o.onStep } : {}),
      sink: {
        onEvent: (ev) => {
          o.onEvent?.(ev);
          work.onEvent(ev);
        },
        drained: () => work.drained(),
        whenDrained: (done) => work.whenDrained(done),
        onLease: (lease) => work.onLease(lease),
        ...(o.onHoldTimeout ? { onHoldTimeout: o.onHoldTimeout } : {}),
      },
    });
  }

  get config(): LegionConfig {
    return this.cfg;
  }

  /** the `setup` event, the valor checks and the cron schedule */
  start(): void {
    this.runner.start();
    this.work.startChecks();
  }

  /** a new base valor (legionctl valor set); the core announces it less the failing checks' weights */
  setValor(base: bigint): void {
    this.runner.command({ type: 'set-valor', valor: base });
  }

  /** SIGHUP: what can change without a new identity; returns the lord-only work replaced */
  reconfigure(cfg: LegionConfig): string[] {
    this.cfg = cfg;
    const changed = this.work.reconfigure(cfg);
    this.runner.command({
      type: 'reconfigure',
      params: legionTunables(cfg, cfg.valor),
    });
    return changed;
  }

  /** clean departure: the workload stops first, then unlord hooks, death announce, death hooks */
  async leave(): Promise<void> {
    await this.work.stopLordWork();
    await this.runner.leave();
  }

  /** after leave(), or for a crash-like stop: hooks and work end, timers and the socket go */
  async close(): Promise<void> {
    await this.work.close();
    await this.runner.close();
  }
}

export function createLegionNode<S, P>(o: LegionNodeOptions<S, P>): LegionNode<S, P> {
  return new LegionNode(o);
}
