/**
 * Simulated hooks of one node incarnation: run one at a time in event order, each for the
 * configured duration (killed at the timeout), failing when configured; `await-hooks` is answered
 * once the queue is empty, or when the hold timeout passes, as the daemon's runner does.
 */
import type { HookEvent } from '../src/legion/types.js';
import type { HookSpec } from './scenario-types.js';

export interface HookHost {
  now(): number;
  /** a timer for this incarnation: `hook-done` or the hold timeout with its token */
  timer(at: number, what: { k: 'hook-done' } | { k: 'hold-timeout'; token: number }): void;
  finished(event: HookEvent, ok: boolean, ranMs: number): void;
  /** one `hooks-drained` answer for one `await-hooks` */
  drained(timedOut: boolean): void;
}

export class SimHooks {
  private readonly queue: HookEvent[] = [];
  private running: HookEvent | null = null;
  private startedAt = 0;
  private awaits: number[] = [];
  private token = 0;

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

  /** `await-hooks`: answered at once when idle (returns true), else later */
  await(): boolean {
    if (this.idle) return true;
    const token = ++this.token;
    this.awaits.push(token);
    this.host.timer(this.host.now() + this.spec().holdTimeoutMs, { k: 'hold-timeout', token });
    return false;
  }

  onDone(): void {
    if (!this.running) return;
    this.finish(this.running, this.host.now() - this.startedAt);
    this.running = null;
    this.run();
  }

  onHoldTimeout(token: number): void {
    if (!this.awaits.includes(token)) return;
    this.awaits = this.awaits.filter((t) => t !== token);
    this.host.drained(true);
  }

  private run(): void {
    while (!this.running && this.queue.length > 0) {
      const event = this.queue.shift()!;
      const { durationMs, timeoutMs } = this.spec();
      const ms = Math.min(durationMs, timeoutMs);
      if (ms > 0) {
        this.running = event;
        this.startedAt = this.host.now();
        this.host.timer(this.startedAt + ms, { k: 'hook-done' });
        return;
      }
      this.finish(event, 0);
    }
    if (this.idle && this.awaits.length > 0) {
      const n = this.awaits.length;
      this.awaits = [];
      for (let i = 0; i < n; i++) this.host.drained(false);
    }
  }

  private finish(event: HookEvent, ranMs: number): void {
    const spec = this.spec();
    const ok = spec.durationMs <= spec.timeoutMs && !spec.fail.includes(event);
    this.host.finished(event, ok, ranMs);
  }
}
