/**
 * Virtual processes and time for the hook classes: FakeTimers (HookTimers on a clock that moves
 * only in `advance`), FakeSpawner (processes that do what a test's script says, on those timers)
 * and fakeGuard (the GuardedSpawner contract of guard.ts, on the same). Deterministic: timers
 * fire in (time, creation) order, and promise chains settle between two timers.
 */
import type {
  GuardedCommand,
  GuardedSpawner,
  GuardOptions,
  HookCommand,
  HookTimers,
  RunningCommand,
  RunOptions,
  RunOutcome,
  Spawner,
  TimerHandle,
} from '../../src/hooks/index.js';
import { commandText } from '../../src/hooks/index.js';

/** lets every pending promise chain run (setImmediate comes after all microtasks) */
export const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

export class FakeTimers implements HookTimers {
  private t = 0;
  private seq = 0;
  private readonly pending = new Map<number, { at: number; seq: number; fn: () => void }>();

  /** wall = wallBaseMs + monotonic; the default base is a whole minute (2030-01-01T00:00Z) */
  constructor(private readonly wallBaseMs = Date.UTC(2030, 0, 1)) {}

  now(): number {
    return this.t;
  }

  wallNow(): number {
    return this.wallBaseMs + this.t;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const seq = ++this.seq;
    this.pending.set(seq, { at: this.t + Math.max(0, ms), seq, fn });
    return seq;
  }

  clearTimeout(handle: TimerHandle): void {
    this.pending.delete(handle as number);
  }

  get armed(): number {
    return this.pending.size;
  }

  /** moves the clock `ms` on, firing what falls due in order and settling after each */
  async advance(ms: number): Promise<void> {
    const end = this.t + ms;
    for (;;) {
      await settle();
      let next: { at: number; seq: number; fn: () => void } | undefined;
      for (const p of this.pending.values())
        if (p.at <= end && (!next || p.at < next.at || (p.at === next.at && p.seq < next.seq))) next = p;
      if (!next) break;
      this.pending.delete(next.seq);
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

/** One virtual process: the test (or the spawner's script) decides when and how it ends. */
export class FakeProc {
  readonly signals: NodeJS.Signals[] = [];
  /** what a SIGTERM does: 'exit' (die of it at once) or 'ignore' (only SIGKILL ends it) */
  onTerm: 'exit' | 'ignore' = 'exit';
  outcome: RunOutcome | null = null;
  readonly done: Promise<RunOutcome>;
  private resolve!: (o: RunOutcome) => void;
  /** this process's own timers, cleared when it ends so none outlives it */
  private readonly armed: TimerHandle[] = [];
  timedOut = false;

  constructor(
    readonly pid: number,
    readonly cmd: HookCommand,
    readonly opts: RunOptions,
    readonly startedAt: number,
    private readonly timers: FakeTimers,
  ) {
    this.done = new Promise((r) => {
      this.resolve = r;
    });
  }

  get text(): string {
    return commandText(this.cmd);
  }

  get alive(): boolean {
    return this.outcome === null;
  }

  exit(exitCode: number | null, signal: NodeJS.Signals | null = null): void {
    if (!this.alive) return;
    this.outcome = {
      exitCode,
      signal,
      timedOut: this.timedOut,
      spawnError: null,
      durationMs: this.timers.now() - this.startedAt,
    };
    for (const h of this.armed.splice(0)) this.timers.clearTimeout(h);
    this.resolve(this.outcome);
  }

  /** runs `fn` `ms` from now unless the process ended before */
  after(ms: number, fn: () => void): void {
    this.armed.push(this.timers.setTimeout(fn, ms));
  }

  /** exits with `code` `ms` from now */
  exitAfter(ms: number, code = 0): void {
    this.after(ms, () => this.exit(code));
  }

  kill(signal: NodeJS.Signals): void {
    if (!this.alive) return;
    this.signals.push(signal);
    if (signal === 'SIGKILL' || this.onTerm === 'exit') this.exit(null, signal);
  }

  /** RunningCommand.terminate: SIGTERM, SIGKILL killGraceMs later */
  terminate(): Promise<RunOutcome> {
    if (this.alive) {
      this.kill('SIGTERM');
      this.after(this.opts.killGraceMs ?? 1000, () => this.kill('SIGKILL'));
    }
    return this.done;
  }
}

/**
 * Starts FakeProcs; `script` sets each one's behaviour when it starts (say `p.exitAfter(10, 1)`);
 * one it leaves alone runs until killed. Honours timeoutMs as runCommand does.
 */
export class FakeSpawner implements Spawner {
  readonly procs: FakeProc[] = [];
  private nextPid = 1000;

  constructor(
    private readonly timers: FakeTimers,
    private readonly script: (p: FakeProc) => void = () => {},
  ) {}

  run(cmd: HookCommand, opts: RunOptions): RunningCommand {
    const p = new FakeProc(this.nextPid++, cmd, opts, this.timers.now(), this.timers);
    this.procs.push(p);
    if (opts.timeoutMs !== null)
      p.after(opts.timeoutMs, () => {
        p.timedOut = true;
        void p.terminate();
      });
    this.script(p);
    return { pid: p.pid, done: p.done, terminate: () => p.terminate() };
  }

  /** when each process whose command contains `text` started */
  startsOf(text = ''): number[] {
    return this.procs.filter((p) => p.text.includes(text)).map((p) => p.startedAt);
  }
}

/**
 * guard.ts's contract on fake time, for a process that lives in `spawner`: SIGTERM at
 * fence - fenceGraceMs, SIGKILL at the fence, a renewal after the SIGTERM only brings the kill
 * sooner. (legiond's own death has no meaning in a unit test and is left out.)
 */
export function fakeGuard(spawner: FakeSpawner, timers: FakeTimers): GuardedSpawner {
  return {
    runGuarded(cmd: HookCommand, opts: GuardOptions): GuardedCommand {
      const { lease, fenceGraceMs, records, ...runOpts } = opts;
      const run = spawner.run(cmd, runOpts);
      const p = spawner.procs[spawner.procs.length - 1]!;
      records?.started(p.pid, cmd);
      let fence = Number.POSITIVE_INFINITY;
      let termed = false;
      const armed: TimerHandle[] = [];
      const arm = () => {
        for (const h of armed.splice(0)) timers.clearTimeout(h);
        const toFence = fence - lease.now();
        if (!termed)
          armed.push(
            timers.setTimeout(
              () => {
                termed = true;
                p.kill('SIGTERM');
              },
              Math.max(0, toFence - fenceGraceMs),
            ),
          );
        armed.push(timers.setTimeout(() => p.kill('SIGKILL'), Math.max(0, toFence)));
      };
      const follow = () => {
        const l = lease.current();
        const next = l === null ? Number.NEGATIVE_INFINITY : l.fenceAtMs;
        fence = termed ? Math.min(fence, next) : next;
        arm();
      };
      follow();
      const unsubscribe = lease.subscribe(follow);
      void p.done.then(() => {
        unsubscribe();
        for (const h of armed.splice(0)) timers.clearTimeout(h);
        records?.exited(p.pid);
      });
      return { ...run, guardPid: p.pid };
    },
  };
}
