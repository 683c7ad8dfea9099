/**
 * Cron entries that run only on the lord. Every node keeps the schedule; at each tick a node
 * whose lease does not allow new work at that instant does nothing, so the job follows the title
 * without any hand-over. Runs go under a guard bound to the lease (guard.ts): a run never
 * outlives it, even if legiond dies or stalls.
 */
import { childEnv } from './env.js';
import { type LordOnlyInit, leaseRefusal, systemGuarded, type WorkRecordSink } from './guard.js';
import { mayStartUnder } from './lease.js';
import { DEFAULT_KILL_GRACE_MS, outcomeOk, type RunningCommand } from './process.js';
import { type CronSchedule, systemSchedule } from './schedule.js';
import { commandText, type HookCommand, type RunOutcome } from './types.js';
import { WorkRecords } from './work-records.js';

export interface CronEntryInit {
  schedule: string;
  command: HookCommand;
  /** null: no timeout */
  timeoutMs: number | null;
}

export interface CronRunnerInit extends LordOnlyInit {
  entries: readonly CronEntryInit[];
  /** between SIGTERM and SIGKILL on a timeout or a stop; default 1000 */
  killGraceMs?: number;
  /** default '5-or-6-parts': classic patterns, or a leading seconds field */
  mode?: '5-part' | '6-part' | '5-or-6-parts';
  /** each finished run */
  onRun?: (run: { index: number; command: HookCommand; outcome: RunOutcome; ok: boolean }) => void;
  /** what calls `fire` at the entries' times; default croner's timers (timerSchedule: HookTimers') */
  schedule?: CronSchedule;
}

export class CronRunner {
  private jobs: Array<{ stop(): void }> = [];
  private readonly running = new Map<number, RunningCommand>();
  private readonly records: WorkRecordSink | undefined;

  constructor(private readonly init: CronRunnerInit) {
    this.records =
      init.records ??
      (init.stateDir ? WorkRecords.shared(init.stateDir, init.legion, init.logger) : undefined);
  }

  start(): void {
    if (this.jobs.length > 0) return;
    const schedule = this.init.schedule ?? systemSchedule;
    this.jobs = this.init.entries.map((e, i) =>
      schedule(e.schedule, { mode: this.init.mode ?? '5-or-6-parts', name: `${this.init.legion}#${i}` }, () =>
        this.fire(i),
      ),
    );
  }

  /** Stops the schedule and kills runs still going (their whole process groups). */
  async stop(): Promise<void> {
    for (const j of this.jobs) j.stop();
    this.jobs = [];
    await this.stopRuns();
  }

  /** Kills the runs still going and keeps the schedule (ticks go on asking the lease). */
  async stopRuns(): Promise<void> {
    await Promise.all([...this.running.values()].map((r) => r.terminate()));
  }

  get busy(): number {
    return this.running.size;
  }

  /** One scheduled tick of entry `index`: what the schedule calls, and what tests call directly. */
  fire(index: number): void {
    const entry = this.init.entries[index];
    if (!entry) return;
    const fields = { legion: this.init.legion, cron: entry.schedule, command: commandText(entry.command) };
    const lease = this.init.lease.current();
    const killGraceMs = this.init.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
    const fenceGraceMs = Math.min(killGraceMs, this.init.fenceGraceMs);
    if (!mayStartUnder(lease, this.init.lease.now(), this.init.startMarginMs ?? fenceGraceMs)) {
      const why = leaseRefusal(lease);
      this.init.logger.debug({ ...fields, why }, `cron tick skipped: ${why}`);
      return;
    }
    if (this.running.has(index)) {
      this.init.logger.warn(fields, 'cron run skipped: the previous run is still going');
      return;
    }
    const ctx = this.init.context();
    const epoch = lease.epoch.toString();
    this.init.logger.info({ ...fields, epoch }, 'cron run started');
    const run = (this.init.guarded ?? systemGuarded).runGuarded(entry.command, {
      env: childEnv(this.init.baseEnv ?? process.env, { ...ctx, env: { ...ctx.env, LEGION_EPOCH: epoch } }),
      stdin: ctx.stdin,
      timeoutMs: entry.timeoutMs,
      killGraceMs,
      logger: this.init.logger,
      logFields: fields,
      lease: this.init.lease,
      fenceGraceMs,
      records: this.records,
    });
    this.running.set(index, run);
    void run.done.then((outcome) => {
      this.running.delete(index);
      const ok = outcomeOk(outcome);
      const level = ok ? 'info' : 'error';
      this.init.logger[level](
        {
          ...fields,
          exitCode: outcome.exitCode,
          signal: outcome.signal,
          timedOut: outcome.timedOut,
          durationMs: outcome.durationMs,
          spawnError: outcome.spawnError,
        },
        ok ? 'cron run finished' : 'cron run failed',
      );
      this.init.onRun?.({ index, command: entry.command, outcome, ok });
    });
  }
}
