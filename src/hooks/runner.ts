/**
 * Runs a legion's hooks one at a time, in the order their events happened, each exactly once.
 * `enqueue` never waits: the election must not be delayed by a slow hook.
 */
import type { HookEvent, LegionEvent } from '../legion/types.js';
import { childEnv, eventContext } from './env.js';
import { DEFAULT_KILL_GRACE_MS, outcomeOk, type RunningCommand } from './process.js';
import { type Spawner, systemSpawner } from './spawner.js';
import {
  commandText,
  type HookCommand,
  type HookContext,
  type HookLogger,
  type HookResult,
} from './types.js';

export interface HookRunnerInit {
  legion: string;
  /** each command is killed (its whole process group) after this long */
  timeoutMs: number;
  /** between SIGTERM and SIGKILL on timeout or close; default 1000 */
  killGraceMs?: number;
  logger: HookLogger;
  /** every finished command, failures included; the daemon uses it to react to a failing lord hook */
  onResult?: (result: HookResult) => void;
  /** the daemon's environment the LEGION_* variables are added to; default process.env */
  baseEnv?: NodeJS.ProcessEnv;
  maxLineBytes?: number;
  maxLines?: number;
  /** default real processes */
  spawner?: Spawner;
}

interface CommandJob {
  kind: 'command';
  event: HookEvent;
  command: HookCommand;
  context: HookContext;
}

/**
 * Work that must keep its place among the hooks: stopping lord-only work before the unlord hooks,
 * starting it after the lord hooks. It runs even after close (a stop must never be dropped).
 */
interface TaskJob {
  kind: 'task';
  name: string;
  run: () => Promise<void>;
}

type Job = CommandJob | TaskJob;

export class HookRunner {
  private readonly queue: Job[] = [];
  private current: RunningCommand | null = null;
  private pumping = false;
  private closed = false;
  private waiters: Array<() => void> = [];
  private timeoutMs: number;

  constructor(private readonly init: HookRunnerInit) {
    this.timeoutMs = init.timeoutMs;
  }

  /** Queues the event's commands behind everything already queued and returns at once. */
  enqueue(event: LegionEvent, commands: readonly HookCommand[]): void {
    if (this.closed) {
      this.init.logger.warn(
        { legion: this.init.legion, event: event.type },
        'hook runner closed; hooks not run',
      );
      return;
    }
    if (commands.length === 0) return;
    // The context is taken now, so each hook sees its own event even if it runs later.
    const context = eventContext(this.init.legion, event);
    for (const command of commands) this.queue.push({ kind: 'command', event: event.type, command, context });
    this.kick();
  }

  /** Queues `run` behind everything already queued; a task that throws is logged and skipped. */
  enqueueTask(name: string, run: () => Promise<void>): void {
    this.queue.push({ kind: 'task', name, run });
    this.kick();
  }

  private kick(): void {
    if (!this.pumping) {
      this.pumping = true;
      // after the caller's synchronous work (enqueue never runs a hook inside the call), on no
      // clock: a simulator only has to settle promises, as it must for `done` anyway
      queueMicrotask(() => void this.pump());
    }
  }

  /** Resolves once every command queued so far (and any queued meanwhile) has finished. */
  drained(): Promise<void> {
    if (this.idle) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  get idle(): boolean {
    return !this.pumping && this.queue.length === 0;
  }

  /** Applies to commands started from now on (a config reload). */
  setTimeoutMs(ms: number): void {
    this.timeoutMs = ms;
  }

  /** Drops what is queued, kills the running command's group and resolves once it is gone. */
  async close(): Promise<void> {
    this.closed = true;
    const all = this.queue.splice(0);
    const dropped = all.filter((j): j is CommandJob => j.kind === 'command');
    this.queue.push(...all.filter((j) => j.kind === 'task'));
    if (dropped.length > 0) {
      this.init.logger.warn(
        { legion: this.init.legion, dropped: dropped.map((j) => `${j.event}: ${commandText(j.command)}`) },
        'hook runner closed; queued hooks dropped',
      );
    }
    await this.current?.terminate();
    if (!this.pumping) this.wake();
    await this.drained();
  }

  private async pump(): Promise<void> {
    try {
      for (let job = this.queue.shift(); job !== undefined; job = this.queue.shift()) {
        await this.run(job);
      }
    } finally {
      this.pumping = false;
      this.wake();
    }
  }

  private async run(job: Job): Promise<void> {
    if (job.kind === 'task') {
      try {
        await job.run();
      } catch (e) {
        this.init.logger.error(
          { legion: this.init.legion, task: job.name, err: e },
          'queued work task failed',
        );
      }
      return;
    }
    const { legion, logger } = this.init;
    const logFields = { legion, event: job.event, command: commandText(job.command) };
    logger.info(logFields, 'hook started');
    const running = (this.init.spawner ?? systemSpawner).run(job.command, {
      env: childEnv(this.init.baseEnv ?? process.env, job.context),
      stdin: job.context.stdin,
      timeoutMs: this.timeoutMs,
      killGraceMs: this.init.killGraceMs ?? DEFAULT_KILL_GRACE_MS,
      logger,
      logFields,
      maxLineBytes: this.init.maxLineBytes,
      maxLines: this.init.maxLines,
    });
    this.current = running;
    const outcome = await running.done;
    this.current = null;
    const result: HookResult = { ...outcome, event: job.event, command: job.command, ok: outcomeOk(outcome) };
    const fields = {
      ...logFields,
      exitCode: result.exitCode,
      signal: result.signal,
      timedOut: result.timedOut,
      durationMs: result.durationMs,
    };
    if (result.ok) logger.info(fields, 'hook finished');
    else logger.error({ ...fields, spawnError: result.spawnError }, 'hook failed');
    try {
      this.init.onResult?.(result);
    } catch (e) {
      logger.error({ ...logFields, err: e }, 'hook result handler threw');
    }
  }

  private wake(): void {
    if (!this.idle) return;
    const waiters = this.waiters.splice(0);
    for (const w of waiters) w();
  }
}
