/**
 * Virtual processes on a simulated host: what the production hook code (src/hooks: HookRunner,
 * CronRunner, DaemonSupervisor) starts through its `Spawner` (hooks) and `GuardedSpawner` (cron
 * runs, attached daemons), following the guard contract documented on GuardedSpawner in
 * src/hooks/guard.ts, on virtual time.
 *
 * Two sides keep time:
 * - the host's timers (a process ending, its exit after a SIGTERM, a guard's fence) run whatever
 *   legiond does: paused, killed or restarted, its processes go on, and each guard fences its
 *   workload on its own clock. Only a frozen host (a VM pause) stops them.
 * - legiond's timers (a hook's timeout, the grace between its SIGTERM and its SIGKILL, as
 *   runCommand keeps them) are on legiond's scheduler: they wait while it is paused and die with it.
 *
 * A process's exit reaches legiond (its `done` resolving) only while the legiond that started it
 * runs: at once, on resume, or never. Every start and exit is a `proc` trace record.
 */
import type { Scheduler } from '../src/daemon/scheduler.js';
import type {
  GuardedCommand,
  GuardedSpawner,
  GuardOptions,
  HookCommand,
  LeaseSource,
  RunningCommand,
  RunOptions,
  RunOutcome,
  Spawner,
  WorkLease,
} from '../src/hooks/index.js';
import type { HostTimerEvent } from './events.js';
import type { TraceRecord } from './trace.js';

/** What a virtual process does, decided when it starts (the scenario's model, sim/work.ts). */
export interface Behaviour {
  /** for the trace: hook-<event>, daemon, cron */
  work: string;
  /** it exits on its own this long after its start; null: it runs until stopped */
  runMs: number | null;
  /** its status when it exits on its own */
  exitCode: number;
  /** after a SIGTERM it takes this long to exit (0: at once); a SIGKILL ends it at once */
  termMs: number;
}

/** What the processes need from their host slot. */
export interface HostSide {
  readonly slot: number;
  now(): number;
  /** a timer of the host (see the module comment); never fires inside the call */
  setTimer(fn: () => void, ms: number): HostTimerEvent;
  clearTimer(timer: HostTimerEvent): void;
  record(r: TraceRecord): void;
  behaviour(cmd: HookCommand, env: NodeJS.ProcessEnv): Behaviour;
}

/** The legiond incarnation that starts processes. */
export interface LegiondSide {
  readonly inc: number;
  readonly uuid: string;
  /** legiond's own timers */
  readonly scheduler: Scheduler<unknown>;
  /** runs `fn` inside legiond: now, on resume when it is paused, never when it is gone */
  deliver(fn: () => void): void;
}

export interface VirtualOptions {
  /**
   * Guards that do not follow the lease: no SIGTERM, no SIGKILL at the fence (legiond's death
   * still ends the workload). Breaks the guard contract on purpose, to show the checker fails.
   */
  ignoreFence?: boolean;
}

interface GuardSpec {
  lease: LeaseSource;
  fenceGraceMs: number;
}

/** The processes of one host slot, across the incarnations of its legiond. */
export class VirtualHost {
  private readonly live = new Set<VProc>();
  private nextPid = 1000;

  constructor(
    readonly side: HostSide,
    readonly options: VirtualOptions = {},
  ) {}

  /** processes still running on this host */
  get running(): number {
    return this.live.size;
  }

  /** what `legiond` (one incarnation) starts its hooks and lord-only work through */
  spawner(legiond: LegiondSide): Spawner & GuardedSpawner {
    return {
      run: (cmd: HookCommand, opts: RunOptions): RunningCommand => {
        const p = this.spawn(legiond, cmd, opts, null);
        return { pid: p.pid, done: p.done, terminate: () => p.terminate() };
      },
      runGuarded: (cmd: HookCommand, opts: GuardOptions): GuardedCommand => {
        const { lease, fenceGraceMs, records, ...runOpts } = opts;
        const p = this.spawn(legiond, cmd, runOpts, { lease, fenceGraceMs: Math.max(0, fenceGraceMs) });
        records?.started(p.pid, cmd);
        void p.done.then(() => records?.exited(p.pid));
        return { pid: p.pid, guardPid: p.pid, done: p.done, terminate: () => p.terminate() };
      },
    };
  }

  /** legiond `inc` is gone (killed, or exited): its guards read EOF on their pipes */
  legiondGone(inc: number): void {
    for (const p of [...this.live]) if (p.owner.inc === inc) p.guard?.eof();
  }

  /** the host goes down: every process with it */
  killAll(): void {
    for (const p of [...this.live]) p.exit(null, 'SIGKILL');
  }

  /** @internal */
  forget(p: VProc): void {
    this.live.delete(p);
  }

  private spawn(legiond: LegiondSide, cmd: HookCommand, opts: RunOptions, guard: GuardSpec | null): VProc {
    const b = this.side.behaviour(cmd, opts.env);
    const epoch = epochOf(opts.env.LEGION_EPOCH);
    const p = new VProc(this, legiond, this.nextPid++, b, epoch, opts);
    this.live.add(p);
    p.begin(guard);
    return p;
  }
}

function epochOf(text: string | undefined): bigint {
  return text !== undefined && /^\d+$/.test(text) ? BigInt(text) : 0n;
}

class VProc {
  readonly startedAt: number;
  readonly done: Promise<RunOutcome>;
  guard: Guard | null = null;
  private resolve!: (o: RunOutcome) => void;
  private outcome: RunOutcome | null = null;
  private exitTimer: HostTimerEvent | null = null;
  private exitAt = Number.POSITIVE_INFINITY;
  private timedOut = false;
  private terminating = false;
  /** legiond's timers for this process (timeout, kill grace) */
  private readonly legiondTimers: unknown[] = [];

  constructor(
    private readonly host: VirtualHost,
    readonly owner: LegiondSide,
    readonly pid: number,
    private readonly b: Behaviour,
    private readonly epoch: bigint,
    private readonly opts: RunOptions,
  ) {
    this.startedAt = host.side.now();
    this.done = new Promise((r) => {
      this.resolve = r;
    });
  }

  get alive(): boolean {
    return this.outcome === null;
  }

  get hostSide(): HostSide {
    return this.host.side;
  }

  begin(guard: GuardSpec | null): void {
    this.trace('start', '', 0);
    const { b, opts } = this;
    if (b.runMs !== null) this.exitIn(b.runMs, b.exitCode, null);
    if (opts.timeoutMs !== null) {
      const timeoutMs = opts.timeoutMs;
      this.legiondTimer(() => {
        this.timedOut = true;
        opts.logger.warn(
          { ...opts.logFields, pid: this.pid, timeoutMs },
          'command timed out; killing its process group',
        );
        void this.terminate();
      }, timeoutMs);
    }
    if (guard !== null && this.alive)
      this.guard = new Guard(this, guard, this.host.options.ignoreFence === true);
  }

  /** RunningCommand.terminate, from legiond: SIGTERM now, SIGKILL a kill grace later (legiond's timer) */
  terminate(): Promise<RunOutcome> {
    if (this.alive && !this.terminating) {
      this.terminating = true;
      this.signal('SIGTERM');
      this.legiondTimer(() => this.signal('SIGKILL'), this.opts.killGraceMs ?? 1000);
    }
    return this.done;
  }

  signal(sig: 'SIGTERM' | 'SIGKILL'): void {
    if (!this.alive) return;
    if (sig === 'SIGKILL' || this.b.termMs <= 0) this.exit(null, sig);
    else this.exitIn(this.b.termMs, null, 'SIGTERM');
  }

  exit(exitCode: number | null, signal: NodeJS.Signals | null): void {
    if (!this.alive) return;
    const side = this.host.side;
    const outcome: RunOutcome = {
      exitCode,
      signal,
      timedOut: this.timedOut,
      spawnError: null,
      durationMs: side.now() - this.startedAt,
    };
    this.outcome = outcome;
    if (this.exitTimer !== null) side.clearTimer(this.exitTimer);
    this.exitTimer = null;
    this.guard?.stop();
    for (const t of this.legiondTimers.splice(0)) this.owner.scheduler.clearTimer(t);
    this.host.forget(this);
    const how = `${signal ?? `exit ${exitCode}`}${this.timedOut ? ', timed out' : ''}`;
    this.trace('exit', how, outcome.durationMs);
    this.owner.deliver(() => this.resolve(outcome));
  }

  /** the process ends `ms` from now, unless it ends sooner */
  private exitIn(ms: number, exitCode: number | null, signal: NodeJS.Signals | null): void {
    const side = this.host.side;
    const at = side.now() + ms;
    if (at >= this.exitAt) return;
    if (this.exitTimer !== null) side.clearTimer(this.exitTimer);
    this.exitAt = at;
    this.exitTimer = side.setTimer(() => {
      this.exitTimer = null;
      this.exit(exitCode, signal);
    }, ms);
  }

  private legiondTimer(fn: () => void, ms: number): void {
    this.legiondTimers.push(this.owner.scheduler.setTimer(fn, ms));
  }

  private trace(op: 'start' | 'exit', how: string, ranMs: number): void {
    const side = this.host.side;
    side.record({
      t: side.now(),
      kind: 'proc',
      slot: side.slot,
      uuid: this.owner.uuid,
      pid: this.pid,
      work: this.b.work,
      epoch: this.epoch,
      op,
      how,
      ranMs,
    });
  }
}

/**
 * The guard of one workload (guard.ts's contract): it follows the lease legiond publishes,
 * sends SIGTERM at fence − fenceGraceMs and SIGKILL at the fence (after its SIGTERM a new lease
 * only brings the SIGKILL sooner), and when legiond dies sends SIGTERM at once and SIGKILL
 * fenceGraceMs later (or at the fence if sooner). Its timer is the host's, one at a time: a
 * renewal that moves the fence later leaves it in place, and it re-arms when it fires early.
 */
class Guard {
  private fence: number;
  private termed = false;
  private eofKillAt = Number.POSITIVE_INFINITY;
  private closed = false;
  private timer: HostTimerEvent | null = null;
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly unsubscribe: () => void;

  constructor(
    private readonly proc: VProc,
    private readonly spec: GuardSpec,
    private readonly ignoreFence: boolean,
  ) {
    this.fence = fenceOf(spec.lease.current());
    this.unsubscribe = spec.lease.subscribe((l) => this.follow(l));
    this.arm();
  }

  /** legiond wrote a new deadline */
  private follow(l: WorkLease | null): void {
    if (this.closed) return;
    const next = fenceOf(l);
    this.fence = this.termed ? Math.min(this.fence, next) : next;
    this.arm();
  }

  /** EOF on the pipe: legiond is gone */
  eof(): void {
    if (this.closed || Number.isFinite(this.eofKillAt)) return;
    this.unsubscribe();
    this.eofKillAt = this.now() + this.spec.fenceGraceMs;
    if (!this.termed) {
      this.termed = true;
      this.proc.signal('SIGTERM');
    }
    if (this.proc.alive) this.arm();
  }

  stop(): void {
    this.closed = true;
    this.unsubscribe();
    this.clear();
  }

  private now(): number {
    return this.spec.lease.now();
  }

  private killAt(): number {
    const fence = this.ignoreFence ? Number.POSITIVE_INFINITY : this.fence;
    return Math.min(fence, this.eofKillAt);
  }

  private termAt(): number {
    return this.ignoreFence ? Number.POSITIVE_INFINITY : this.fence - this.spec.fenceGraceMs;
  }

  private arm(): void {
    const due = this.termed ? this.killAt() : Math.min(this.termAt(), this.killAt());
    if (due === Number.POSITIVE_INFINITY) {
      this.clear();
      return;
    }
    const now = this.now();
    const at = Math.max(now, due);
    if (this.timer !== null && this.timerAt <= at) return;
    this.clear();
    this.timerAt = at;
    this.timer = this.side().setTimer(() => this.fire(), at - now);
  }

  private fire(): void {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    if (this.closed) return;
    const now = this.now();
    if (now >= this.killAt()) {
      this.proc.signal('SIGKILL');
      return;
    }
    if (!this.termed && now >= this.termAt()) {
      this.termed = true;
      this.proc.signal('SIGTERM');
    }
    if (this.proc.alive) this.arm();
  }

  private clear(): void {
    if (this.timer !== null) this.side().clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private side(): HostSide {
    return this.proc.hostSide;
  }
}

/** a null lease is a fence in the past */
function fenceOf(l: WorkLease | null): number {
  return l === null ? Number.NEGATIVE_INFINITY : l.fenceAtMs;
}
