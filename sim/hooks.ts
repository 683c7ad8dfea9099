/**
 * Simulated hooks of one node incarnation: run one at a time in event order, each for the
 * configured duration (killed at the timeout), failing when configured. `whenIdle` answers the
 * runner's wait for drained hooks in virtual time (the runner itself bounds the wait by its hold
 * timeout, as in the daemon).
 */
import type { HookEvent } from '../src/legion/types.js';
import type { HookSpec } from './scenario-types.js';

export interface HookHost {
  now(): number;
  /** a timer for this incarnation: the running hook is done at `at` */
  timer(at: number): void;
  finished(event: HookEvent, ok: boolean, ranMs: number): void;
}

export class SimHooks {
  private readonly queue: HookEvent[] = [];
  private running: HookEvent | null = null;
  private startedAt = 0;
  private waiting: (() => void)[] = [];

  constructor(
    private readonly spec: () => HookSpec,
    private readonly host: HookHost,
  ) {}

  get idle(): boolean {
    return this.running === null && this.queue.length === 0;
  }

  enqueue(event: HookEvent): void {
    this.queue.push(event);
    if (!this.running) this.run();
  }

  /** `done` once every hook queued so far has finished: at once (inside the call) when idle */
  whenIdle(done: () => void): void {
    if (this.idle) done();
    else this.waiting.push(done);
  }

  onDone(): void {
    if (!this.running) return;
    this.finish(this.running, this.host.now() - this.startedAt);
    this.running = null;
    this.run();
  }

  private run(): void {
    while (!this.running && this.queue.length > 0) {
      const event = this.queue.shift()!;
      const { durationMs, timeoutMs } = this.spec();
      const ms = Math.min(durationMs, timeoutMs);
      if (ms > 0) {
        this.running = event;
        this.startedAt = this.host.now();
        this.host.timer(this.startedAt + ms);
        return;
      }
      this.finish(event, 0);
    }
    if (this.idle && this.waiting.length > 0) {
      const waiting = this.waiting;
      this.waiting = [];
      for (const done of waiting) done();
    }
  }

  private finish(event: HookEvent, ranMs: number): void {
    const spec = this.spec();
    const ok = spec.durationMs <= spec.timeoutMs && !spec.fail.includes(event);
    this.host.finished(event, ok, ranMs);
  }
}
