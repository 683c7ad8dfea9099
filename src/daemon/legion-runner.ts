import { isLegiondError } from '../errors.js';
import {
  type Command,
  type Ctx,
  type Effect,
  type FoldedHeartbeats,
  type Input,
  type LegionEvent,
  type LegionParams,
  type LegionView,
  type Machine,
  takesHeartbeatsInBulk,
  type WorkLease,
} from '../legion/types.js';
import type { Transport } from '../transport/types.js';
import { Counters, RateLimiter } from './counters.js';
import type { Logger } from './logger.js';
import { type Clock, type Scheduler, systemScheduler, withSystemTimers } from './scheduler.js';
import type { WireCodec } from './wire.js';

export { type Clock, type Scheduler, systemClock, systemScheduler } from './scheduler.js';

/** The hook side as the runner sees it: events go in, `drained` says the queue is empty. */
export interface EventSink {
  onEvent(event: LegionEvent): void;
  /** resolves once everything queued so far has finished (hooks, the workload's stop) */
  drained(): Promise<void>;
  /**
   * `drained` as a callback, for a sink on virtual time (the simulator's): `done` may run at once,
   * inside the call. When present the runner uses it instead of `drained`.
   */
  whenDrained?(done: () => void): void;
  /** the runner gave up waiting for `await-hooks` at the hold timeout and goes on */
  onHoldTimeout?(): void;
  /** after every step: the lease lord-only work runs under (Machine.workLease) */
  onLease?(lease: WorkLease | null): void;
}

/** What the runner logs through; a pino logger is one. */
export type RunnerLogger = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Optional: a transport that sees each announce before encoding, so it need not encode all (sim/heartbeats.ts). */
export interface AnnounceTransport<P> extends Transport {
  sendAnnounce(packet: P, encode: (packet: P) => Uint8Array): void;
}

/**
 * Optional: a transport whose packets are objects, not bytes (the strong-mode engine link): it
 * hands them in here, past the codec, as AnnounceTransport takes them out.
 */
export interface PacketTransport<P> extends Transport {
  onPacket(handler: (packet: P) => void): void;
}

/** Optional: a transport that takes repeated announces in bulk; a FoldedHeartbeats core gets their times. */
export interface BulkHeartbeats {
  /** when each sender was last heard in bulk, as of `now`; null when there is nothing to take now */
  heardBy(now: number): ((uuid: string, index: number) => number) | null;
}

export interface RunnerOptions<S, P> {
  params: LegionParams;
  machine: Machine<S, P>;
  codec: WireCodec<P>;
  /** replaced in place by replaceTransport */
  transport: Transport;
  sink: EventSink;
  logger: RunnerLogger;
  /** time, randomness and timers; the system's by default */
  scheduler?: Scheduler;
  /** time and randomness on the system's timers (when no `scheduler` is given) */
  clock?: Clock;
  /** how long a departing lord waits for its unlord hooks before the death announce; read at each wait */
  holdTimeoutMs: number | (() => number);
  /** spacing of the copies of a death announce, so one burst of loss cannot eat them all */
  repeatSpacingMs?: number;
  /** after every step and its effects: observers (the simulator, tests) read the state; never change it */
  onStep?(state: S, wakeAt: number): void;
}

const TICK = { type: 'tick' } as const;
const HOOKS_DRAINED = { type: 'hooks-drained' } as const;

function hasAnnounceSend<P>(t: Transport): t is AnnounceTransport<P> {
  return 'sendAnnounce' in t;
}

function hasPacketIn<P>(t: Transport): t is PacketTransport<P> {
  return 'onPacket' in t;
}

function hasBulkHeartbeats(t: Transport): t is Transport & BulkHeartbeats {
  return 'heardBy' in t;
}

/**
 * The imperative shell around one legion's pure core: feeds it ticks, packets and commands,
 * and carries out the effects it returns. The daemon and the simulator both run this one.
 */
export class LegionRunner<S, P> {
  readonly counters = new Counters();
  private state: S;
  private timer: unknown = null;
  /** when the pending tick fires, on the monotonic clock */
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly sched: Scheduler;
  private readonly rand: () => number;
  private readonly badPacketLog = new RateLimiter(10_000);
  private stoppedResolve: (() => void) | null = null;
  private readonly stoppedPromise: Promise<void>;
  private stopped = false;
  private closed = false;
  private readonly pendingSends = new Set<unknown>();
  /**
   * Inputs that came in during a step (a sink or transport calling back at once): stepped after
   * it, in order, as microtasks would be, never inside it.
   */
  private readonly queued: Input<P>[] = [];
  private stepping = false;
  /** set when the core takes heartbeats in bulk and the transport folds them */
  private readonly folded: FoldedHeartbeats<S, P> | null;
  private bulk: BulkHeartbeats | null = null;
  private announceOut: AnnounceTransport<P> | null = null;
  /** the core's table must take the bulk heartbeats before a step at or after this */
  private heardDue = Number.NEGATIVE_INFINITY;
  private readonly encodeNow = (packet: P): Uint8Array => this.o.codec.encode(packet, this.sched.wall());
  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
    this.apply(TICK);
  };

  constructor(private readonly o: RunnerOptions<S, P>) {
    this.sched = o.scheduler ?? (o.clock ? withSystemTimers(o.clock) : systemScheduler);
    this.rand = this.sched.rand.bind(this.sched);
    this.folded = takesHeartbeatsInBulk(o.machine) ? o.machine : null;
    this.state = o.machine.init(o.params, this.ctx());
    this.stoppedPromise = new Promise((r) => {
      this.stoppedResolve = r;
    });
    this.attach(o.transport);
  }

  get legion(): string {
    return this.o.params.legion;
  }

  get uuid(): string {
    return this.o.params.uuid;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  start(): void {
    this.apply({ type: 'start' });
  }

  command(command: Command): void {
    if (this.stopped) return;
    this.apply({ type: 'command', command });
  }

  view(): LegionView {
    return this.o.machine.view(this.state, this.ctx());
  }

  transportStats() {
    return this.o.transport.stats();
  }

  /** clean departure: unlord hooks, death announce, death hooks; resolves when the core says stopped */
  async leave(): Promise<void> {
    if (!this.stopped) this.command({ type: 'shutdown' });
    await this.stoppedPromise;
  }

  /** release timers and the socket; after leave() or for a crash-like stop in tests */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopped = true;
    this.disarm();
    // let the spaced copies of a death announce go out before the socket closes
    const linger = this.pendingSends.size > 0 ? (this.o.repeatSpacingMs ?? 15) * 3 : 0;
    await new Promise<void>((r) => {
      this.sched.setTimer(r, linger);
    });
    for (const t of this.pendingSends) this.sched.clearTimer(t);
    this.pendingSends.clear();
    await this.o.transport.close();
    this.stoppedResolve?.();
  }

  /** the lease lord-only work runs under, at this instant */
  workLease(): WorkLease | null {
    return this.o.machine.workLease(this.state, this.sched.mono());
  }

  /**
   * Hands the core the heartbeats the transport took in bulk, now rather than before the next
   * step that needs them (the simulator calls it before links change).
   */
  refreshHeard(): void {
    if (this.stopped || this.folded === null || this.bulk === null) return;
    this.takeHeard(this.folded, this.bulk, this.sched.mono());
  }

  /**
   * Swaps the socket under a running core (a reload that changed bind, peers or multicast):
   * state, identity and epoch stay, so no lordship ends because a transport changed.
   */
  async replaceTransport(next: Transport): Promise<void> {
    const old = this.o.transport;
    this.o.transport = next;
    this.attach(next);
    await old.close();
  }

  /**
   * Swaps the codec under a running core (a reload that changed the secrets or the codec's
   * options): the next packet in or out goes through `next`.
   */
  replaceCodec(next: WireCodec<P>): void {
    this.o.codec = next;
  }

  private attach(t: Transport): void {
    this.announceOut = hasAnnounceSend<P>(t) ? t : null;
    this.bulk = hasBulkHeartbeats(t) ? t : null;
    t.onDatagram((d) => this.onBytes(d.bytes));
    if (hasPacketIn<P>(t))
      t.onPacket((packet) => {
        if (!this.stopped) this.apply({ type: 'packet', packet });
      });
  }

  private ctx(): Ctx {
    return { now: this.sched.mono(), rand: this.rand };
  }

  private onBytes(bytes: Uint8Array): void {
    if (this.stopped) return;
    this.counters.packetsIn++;
    let packet: P;
    try {
      packet = this.o.codec.decode(bytes, this.sched.wall());
    } catch (e) {
      const code = isLegiondError(e) ? e.code : 'ERR_INTERNAL';
      const total = this.counters.reject(code);
      if (code === 'ERR_INTERNAL') this.o.logger.error({ err: e }, 'decoder failed unexpectedly');
      const suppressed = this.badPacketLog.allow(code, this.sched.mono());
      if (suppressed >= 0) {
        this.o.logger.warn(
          { legion: this.legion, code, total, suppressed, reason: (e as Error).message },
          'dropped a packet',
        );
      }
      return;
    }
    this.counters.accepted++;
    this.apply({ type: 'packet', packet });
  }

  private apply(input: Input<P>): void {
    if (this.closed) return;
    if (this.stepping) {
      this.queued.push(input);
      return;
    }
    this.stepping = true;
    try {
      this.stepOnce(input);
      while (this.queued.length > 0 && !this.closed) this.stepOnce(this.queued.shift()!);
    } finally {
      this.stepping = false;
    }
  }

  private stepOnce(input: Input<P>): void {
    const ctx = this.ctx();
    const now = ctx.now;
    const folded = this.folded;
    const bulk = this.bulk;
    if (folded !== null && bulk !== null && now >= this.heardDue) this.takeHeard(folded, bulk, now);
    const result = this.o.machine.step(this.state, input, ctx);
    this.state = result.state;
    if (folded !== null && bulk !== null && input.type === 'packet')
      this.heardDue = folded.heardDueAfter(result.state, this.heardDue, input.packet, now);
    for (const effect of result.effects) this.carryOut(effect);
    // after the effects: a send in this step is what renews the lease
    this.o.sink.onLease?.(this.o.machine.workLease(this.state, now));
    this.o.onStep?.(this.state, result.wakeAt);
    if (!this.stopped) this.arm(result.wakeAt);
  }

  private takeHeard(folded: FoldedHeartbeats<S, P>, bulk: BulkHeartbeats, now: number): void {
    const heardAt = bulk.heardBy(now);
    if (heardAt !== null) this.heardDue = folded.noteHeard(this.state, heardAt, now);
  }

  /**
   * Most steps leave the wake-up where it was or move it later. A pending timer that fires no
   * later than needed is kept: an early tick is a cheap step that re-arms, where replacing the
   * timer at every packet was a tenth of the daemon's time per packet.
   */
  private arm(wakeAt: number): void {
    if (!Number.isFinite(wakeAt)) {
      this.disarm();
      return;
    }
    const now = this.sched.mono();
    // a wakeAt in the past means "now"; the floor keeps a confused core from spinning the loop
    const delay = Math.max(1, Math.ceil(wakeAt - now));
    if (this.timer !== null && this.timerAt <= now + delay) return;
    this.disarm();
    this.timerAt = now + delay;
    this.timer = this.sched.setTimer(this.onTimer, delay);
  }

  private disarm(): void {
    if (this.timer !== null) this.sched.clearTimer(this.timer);
    this.timer = null;
    this.timerAt = Number.POSITIVE_INFINITY;
  }

  private carryOut(effect: Effect<P>): void {
    switch (effect.type) {
      case 'send':
        this.send(effect.packet, effect.repeat ?? 1);
        return;
      case 'event':
        this.o.sink.onEvent(effect.event);
        return;
      case 'log':
        // the logger is already a child bound to this legion
        this.o.logger[effect.level](withoutLegion(effect.fields), effect.msg);
        return;
      case 'await-hooks':
        this.waitDrained((drained) => {
          if (!drained) {
            this.o.logger.warn({ legion: this.legion }, 'hooks still running at hold timeout; going on');
            this.o.sink.onHoldTimeout?.();
          }
          this.apply(HOOKS_DRAINED);
        });
        return;
      case 'stopped':
        this.stopped = true;
        this.disarm();
        // death hooks were queued just before this effect; wait for them (bounded) and finish
        this.waitDrained(() => this.stoppedResolve?.());
        return;
    }
  }

  /** `then(true)` once the sink is drained, or `then(false)` at the hold timeout, whichever is first */
  private waitDrained(then: (drained: boolean) => void): void {
    let done = false;
    let timer: unknown = null;
    const finish = (drained: boolean) => {
      if (done) return;
      done = true;
      if (timer !== null) this.sched.clearTimer(timer);
      then(drained);
    };
    const sink = this.o.sink;
    if (sink.whenDrained) sink.whenDrained(() => finish(true));
    else
      sink.drained().then(
        () => finish(true),
        (err) => {
          this.o.logger.error({ legion: this.legion, err }, 'waiting for hooks failed; going on');
          finish(true);
        },
      );
    if (!done) {
      const hold = this.o.holdTimeoutMs;
      timer = this.sched.setTimer(() => finish(false), typeof hold === 'number' ? hold : hold());
    }
  }

  private send(packet: P, repeat: number): void {
    this.sendOne(packet);
    const spacing = this.o.repeatSpacingMs ?? 15;
    for (let i = 1; i < repeat; i++) {
      // each copy is encoded afresh so it carries its own sequence number and passes replay checks
      const t = this.sched.setTimer(() => {
        this.pendingSends.delete(t);
        this.sendOne(packet);
      }, i * spacing);
      this.pendingSends.add(t);
    }
  }

  private sendOne(packet: P): void {
    try {
      const out = this.announceOut;
      if (out !== null) out.sendAnnounce(packet, this.encodeNow);
      else this.o.transport.send(this.encodeNow(packet));
    } catch (e) {
      this.o.logger.error({ legion: this.legion, err: e }, 'could not encode an announce');
    }
  }
}

function withoutLegion(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields || !('legion' in fields)) return fields ?? {};
  const { legion: _legion, ...rest } = fields;
  return rest;
}
