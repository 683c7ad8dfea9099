/**
 * Attached daemons: processes that run only while the node is lord. Started after the lord
 * hooks, stopped on unlord; one that exits on its own is restarted with a doubling backoff.
 */
import { childEnv } from './env.js';
import { type RunningCommand, runCommand } from './process.js';
import { type Clock, commandText, type HookCommand, type HookContext, type HookLogger } from './types.js';

export interface DaemonEntryInit {
  command: HookCommand;
  /** between SIGTERM and SIGKILL on stop */
  graceMs: number;
  /** first restart delay */
  restartBackoffMs: number;
}

export interface DaemonSupervisorInit {
  legion: string;
  entries: readonly DaemonEntryInit[];
  context: () => HookContext;
  logger: HookLogger;
  baseEnv?: NodeJS.ProcessEnv;
  /** monotonic ms; default performance.now */
  clock?: Clock;
  /** restart delay cap; default 30 s */
  maxBackoffMs?: number;
  /** a daemon that ran this long before exiting restarts with the initial backoff; default 60 s */
  resetAfterMs?: number;
}

interface Slot {
  entry: DaemonEntryInit;
  proc: RunningCommand | null;
  startedAt: number;
  backoffMs: number;
  restartTimer: NodeJS.Timeout | null;
  restarts: number;
}

export class DaemonSupervisor {
  private readonly slots: Slot[];
  private active = false;
  private readonly clock: Clock;

  constructor(private readonly init: DaemonSupervisorInit) {
    this.clock = init.clock ?? { now: () => performance.now() };
    this.slots = init.entries.map((entry) => ({
      entry,
      proc: null,
      startedAt: 0,
      backoffMs: entry.restartBackoffMs,
      restartTimer: null,
      restarts: 0,
    }));
  }

  get running(): boolean {
    return this.active;
  }

  /** pid of each daemon's current process (null while it is down) and how often it was restarted */
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
    for (const s of this.slots) {
      s.backoffMs = s.entry.restartBackoffMs;
      this.launch(s);
    }
  }

  /** SIGTERM each daemon's process group, SIGKILL after its grace; resolves when all are gone. */
  async stop(): Promise<void> {
    this.active = false;
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.restartTimer) clearTimeout(s.restartTimer);
        s.restartTimer = null;
        const proc = s.proc;
        if (proc) {
          await proc.terminate();
          s.proc = null;
        }
      }),
    );
  }

  private launch(s: Slot): void {
    s.restartTimer = null;
    if (!this.active) return;
    const fields = { legion: this.init.legion, daemon: commandText(s.entry.command) };
    const ctx = this.init.context();
    const proc = runCommand(s.entry.command, {
      env: childEnv(this.init.baseEnv ?? process.env, {
        ...ctx,
        env: { ...ctx.env, LEGION_EVENT: 'daemon' },
      }),
      stdin: null,
      timeoutMs: null,
      killGraceMs: s.entry.graceMs,
      logger: this.init.logger,
      logFields: fields,
    });
    s.proc = proc;
    s.startedAt = this.clock.now();
    this.init.logger.info({ ...fields, pid: proc.pid }, 'daemon started');
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
      s.restartTimer = setTimeout(() => this.launch(s), delay);
    });
  }
}
