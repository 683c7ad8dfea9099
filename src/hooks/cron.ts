/**
 * Cron entries that run only on the lord. Every node keeps the schedule; at each tick a node
 * that is not lord does nothing, so the job follows the title without any hand-over.
 */
import { Cron } from 'croner';
import { childEnv } from './env.js';
import { DEFAULT_KILL_GRACE_MS, outcomeOk, type RunningCommand, runCommand } from './process.js';
import {
  commandText,
  type HookCommand,
  type HookContext,
  type HookLogger,
  type RunOutcome,
} from './types.js';

export interface CronEntryInit {
  schedule: string;
  command: HookCommand;
  /** null: no timeout */
  timeoutMs: number | null;
}

export interface CronRunnerInit {
  legion: string;
  entries: readonly CronEntryInit[];
  isLord: () => boolean;
  /** the environment and stdin for a run, taken when it starts (see viewContext) */
  context: () => HookContext;
  logger: HookLogger;
  killGraceMs?: number;
  baseEnv?: NodeJS.ProcessEnv;
  /** default '5-or-6-parts': classic patterns, or a leading seconds field */
  mode?: '5-part' | '6-part' | '5-or-6-parts';
  /** each finished run */
  onRun?: (run: { index: number; command: HookCommand; outcome: RunOutcome; ok: boolean }) => void;
}

export class CronRunner {
  private jobs: Cron[] = [];
  private readonly running = new Map<number, RunningCommand>();

  constructor(private readonly init: CronRunnerInit) {}

  start(): void {
    if (this.jobs.length > 0) return;
    this.jobs = this.init.entries.map(
      (e, i) =>
        new Cron(
          e.schedule,
          { mode: this.init.mode ?? '5-or-6-parts', name: `${this.init.legion}#${i}` },
          () => this.fire(i),
        ),
    );
  }

  /** Stops the schedule and kills runs still going (their whole process groups). */
  async stop(): Promise<void> {
    for (const j of this.jobs) j.stop();
    this.jobs = [];
    await Promise.all([...this.running.values()].map((r) => r.terminate()));
  }

  get busy(): number {
    return this.running.size;
  }

  /** One scheduled tick of entry `index`: what croner calls, and what tests call directly. */
  fire(index: number): void {
    const entry = this.init.entries[index];
    if (!entry) return;
    const fields = { legion: this.init.legion, cron: entry.schedule, command: commandText(entry.command) };
    if (!this.init.isLord()) {
      this.init.logger.debug(fields, 'cron tick skipped: not lord');
      return;
    }
    if (this.running.has(index)) {
      this.init.logger.warn(fields, 'cron run skipped: the previous run is still going');
      return;
    }
    const ctx = this.init.context();
    this.init.logger.info(fields, 'cron run started');
    const run = runCommand(entry.command, {
      env: childEnv(this.init.baseEnv ?? process.env, ctx),
      stdin: ctx.stdin,
      timeoutMs: entry.timeoutMs,
      killGraceMs: this.init.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      logger: this.init.logger,
      logFields: fields,
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
