/**
 * Attached daemons: processes that run only while the node is lord. Started after the lord
 * hooks, stopped on unlord; one that exits on its own is restarted with a doubling backoff.
 *
 * Each runs under a guard bound to the lease (guard.ts), so it never outlives the lease even if
 * legiond dies or stalls. A start or restart happens only while the lease allows new work at
 * that instant; a restart that falls due while it does not waits for the next lease change.
 * A slot never has two processes alive: a start while an earlier one is still being stopped
 * waits for it to be gone.
 */
import { childEnv } from './env.js';
import {
  type GuardedCommand,
  type LordOnlyInit,
  leaseRefusal,
  systemGuarded,
  type WorkRecordSink,
} from './guard.js';
import { mayStartUnder } from './lease.js';
import { type HookTimers, systemTimers, type TimerHandle } from './timers.js';
import { type Clock, commandText, type HookCommand } from './types.js';
import { WorkRecords } from './work-records.js';

export interface DaemonEntryInit {
  command: HookCommand;
  /** between SIGTERM and SIGKILL on stop */
  graceMs: number;
  /** first restart delay */
  restartBackoffMs: number;
}

export interface DaemonSupervisorInit extends LordOnlyInit {
  entries: readonly DaemonEntryInit[];
  /** restart timers and, unless `clock` is given, the clock; default the system's */
  timers?: HookTimers;
  /** monotonic ms for how long a daemon ran; default `timers` */
  clock?: Clock;
  /** restart delay cap; default 30 s */
  maxBackoffMs?: number;
  /** a daemon that ran this long before exiting restarts with the initial backoff; default 60 s */
  resetAfterMs?: number;
  /** a daemon's process started, was stopped (unlord, shutdown), or exited on its own (metrics) */
  onChange?: (change: 'start' | 'stop' | 'exit') => void;
}

interface Slot {
  entry: DaemonEntryInit;
  fenceGraceMs: number;
  proc: GuardedCommand | null;
  /** processes a stop() is terminating; a new one starts only once this is empty */
  stopping: Set<Promise<unknown>>;
  startedAt: number;
  backoffMs: number;
  restartTimer: TimerHandle | null;
  /** set while a start waits for the lease, so the wait is logged once */
  waiting: boolean;
  restarts: number;
}

export class DaemonSupervisor {
  private readonly slots: Slot[];
  private active = false;
  private readonly clock: Clock;
  private readonly timers: HookTimers;
  private readonly records: WorkRecordSink | undefined;
  private unsubscribe: (() => void) | null = null;

  constructor(private readonly init: DaemonSupervisorInit) {
    this.timers = init.timers ?? systemTimers;
    this.clock = init.clock ?? this.timers;
    this.records =
      init.records ??
      (init.stateDir ? WorkRecords.shared(init.stateDir, init.legion, init.logger) : undefined);
    this.slots = init.entries.map((entry) => ({
      entry,
      fenceGraceMs: Math.min(entry.graceMs, init.fenceGraceMs),
      proc: null,
      stopping: new Set(),
      startedAt: 0,
      backoffMs: entry.restartBackoffMs,
      restartTimer: null,
      waiting: false,
      restarts: 0,
    }));
  }

  get running(): boolean {
    return this.active;
  }

  /** the guard pid of each daemon's current process (null while it is down), and its restarts */
  status(): Array<{ command: HookCommand; pid: number | null; restarts: number }> {
    return this.slots.map((s) => ({
      command: s.entry.command,
      pid: s.proc?.pid ?? null,
      restarts: s.restarts,
    }));
  }

  start(): void {
    if (this.active) return;
    this.active = true;
    this.unsubscribe = this.init.lease.subscribe(() => {
      for (const s of this.slots) if (s.waiting) this.launch(s);
    });
    for (const s of this.slots) {
      s.backoffMs = s.entry.restartBackoffMs;
      this.launch(s);
    }
  }

  /**
   * SIGTERM each daemon's process group, SIGKILL after its grace. Resolves when every process
   * of this supervisor is gone, those an earlier stop() is still terminating included.
   */
  async stop(): Promise<void> {
    this.active = false;
    this.unsubscribe?.();
    this.unsubscribe = null;
    for (const s of this.slots) {
      if (s.restartTimer !== null) this.timers.clearTimeout(s.restartTimer);
      s.restartTimer = null;
      s.waiting = false;
      const proc = s.proc;
      if (!proc) continue;
      s.proc = null;
      this.init.onChange?.('stop');
      const gone = proc.terminate();
      s.stopping.add(gone);
      void gone.then(() => {
        s.stopping.delete(gone);
        // a start() that came while this one was dying goes ahead now
        this.launch(s);
      });
    }
    await Promise.all(this.slots.flatMap((s) => [...s.stopping]));
  }

  /** Starts the slot's process if nothing stands in the way; called again by whatever does. */
  private launch(s: Slot): void {
    if (!this.active || s.proc || s.stopping.size > 0 || s.restartTimer !== null) return;
    const fields = { legion: this.init.legion, daemon: commandText(s.entry.command) };
    const lease = this.init.lease;
    const current = lease.current();
    if (!mayStartUnder(current, lease.now(), this.init.startMarginMs ?? s.fenceGraceMs)) {
      if (!s.waiting)
        this.init.logger.info({ ...fields, why: leaseRefusal(current) }, 'daemon start waits for the lease');
      s.waiting = true;
      return;
    }
    s.waiting = false;
    const ctx = this.init.context();
    const proc = (this.init.guarded ?? systemGuarded).runGuarded(s.entry.command, {
      env: childEnv(this.init.baseEnv ?? process.env, {
        ...ctx,
        env: { ...ctx.env, LEGION_EVENT: 'daemon', LEGION_EPOCH: current.epoch.toString() },
      }),
      stdin: null,
      timeoutMs: null,
      killGraceMs: s.entry.graceMs,
      logger: this.init.logger,
      logFields: fields,
      lease,
      fenceGraceMs: s.fenceGraceMs,
      records: this.records,
    });
    s.proc = proc;
    s.startedAt = this.clock.now();
    this.init.logger.info({ ...fields, pid: proc.pid, epoch: current.epoch.toString() }, 'daemon started');
    this.init.onChange?.('start');
    void proc.done.then((outcome) => {
      if (s.proc !== proc) return;
      s.proc = null;
      if (!this.active) return;
      const ranMs = this.clock.now() - s.startedAt;
      if (ranMs >= (this.init.resetAfterMs ?? 60_000)) s.backoffMs = s.entry.restartBackoffMs;
      const delay = s.backoffMs;
      s.backoffMs = Math.min(s.backoffMs * 2, this.init.maxBackoffMs ?? 30_000);
      this.init.logger.warn(
        {
          ...fields,
          exitCode: outcome.exitCode,
          signal: outcome.signal,
          spawnError: outcome.spawnError,
          ranMs: Math.round(ranMs),
          restartInMs: delay,
        },
        'daemon exited; restarting',
      );
      s.restarts++;
      this.init.onChange?.('exit');
      s.restartTimer = this.timers.setTimeout(() => {
        s.restartTimer = null;
        this.launch(s);
      }, delay);
    });
  }
}
