import { isLegiondError } from '../errors.js';
import type {
  Command,
  Ctx,
  Effect,
  Input,
  LegionEvent,
  LegionParams,
  LegionView,
  Machine,
  WorkLease,
} from '../legion/types.js';
import type { Transport } from '../transport/types.js';
import { Counters, RateLimiter } from './counters.js';
import type { Logger } from './logger.js';
import type { WireCodec } from './wire.js';

export interface Clock {
  /** monotonic ms: liveness and timers */
  mono(): number;
  /** wall ms: only the replay window and uWSGI's `unix` field */
  wall(): number;
  rand(): number;
}

export const systemClock: Clock = {
  mono: () => performance.now(),
  wall: () => Date.now(),
  rand: () => Math.random(),
};

/** The hook side as the runner sees it: events go in, `drained` says the queue is empty. */
export interface EventSink {
  onEvent(event: LegionEvent): void;
  drained(): Promise<void>;
  /** after every step: the lease lord-only work runs under (Machine.workLease) */
  onLease?(lease: WorkLease | null): void;
}

export interface RunnerOptions<S, P> {
  params: LegionParams;
  machine: Machine<S, P>;
  codec: WireCodec<P>;
  /** replaced in place by replaceTransport */
  transport: Transport;
  sink: EventSink;
  logger: Logger;
  clock?: Clock;
  /** how long a departing lord waits for its unlord hooks before the death announce */
  holdTimeoutMs: number;
  /** spacing of the copies of a death announce, so one burst of loss cannot eat them all */
  repeatSpacingMs?: number;
}

/**
 * The imperative shell around one legion's pure core: feeds it ticks, packets and commands,
 * and carries out the effects it returns.
 */
export class LegionRunner<S, P> {
  readonly counters = new Counters();
  private state: S;
  private timer: NodeJS.Timeout | null = null;
  /** when the pending tick fires, on the monotonic clock */
  private timerAt = Number.POSITIVE_INFINITY;
  private readonly clock: Clock;
  private readonly badPacketLog = new RateLimiter(10_000);
  private stoppedResolve: (() => void) | null = null;
  private readonly stoppedPromise: Promise<void>;
  private stopped = false;
  private closed = false;
  private pendingSends = new Set<NodeJS.Timeout>();

  constructor(private readonly o: RunnerOptions<S, P>) {
    this.clock = o.clock ?? systemClock;
    this.state = o.machine.init(o.params, this.ctx());
    this.stoppedPromise = new Promise((r) => {
      this.stoppedResolve = r;
    });
    o.transport.onDatagram((d) => this.onBytes(d.bytes));
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
    await new Promise((r) =>
      setTimeout(r, this.pendingSends.size > 0 ? (this.o.repeatSpacingMs ?? 15) * 3 : 0),
    );
    for (const t of this.pendingSends) clearTimeout(t);
    await this.o.transport.close();
    this.stoppedResolve?.();
  }

  private ctx(): Ctx {
    return { now: this.clock.mono(), rand: this.clock.rand };
  }

  private onBytes(bytes: Uint8Array): void {
    if (this.stopped) return;
    this.counters.packetsIn++;
    let packet: P;
    try {
      packet = this.o.codec.decode(bytes, this.clock.wall());
    } catch (e) {
      const code = isLegiondError(e) ? e.code : 'ERR_INTERNAL';
      const total = this.counters.reject(code);
      if (code === 'ERR_INTERNAL') this.o.logger.error({ err: e }, 'decoder failed unexpectedly');
      const suppressed = this.badPacketLog.allow(code, this.clock.mono());
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
    const ctx = this.ctx();
    const result = this.o.machine.step(this.state, input, ctx);
    this.state = result.state;
    for (const effect of result.effects) this.carryOut(effect);
    // after the effects: a send in this step is what renews the lease
    this.o.sink.onLease?.(this.o.machine.workLease(this.state, ctx.now));
    if (!this.stopped) this.arm(result.wakeAt);
  }

  /** the lease lord-only work runs under, at this instant */
  workLease(): WorkLease | null {
    return this.o.machine.workLease(this.state, this.clock.mono());
  }

  /**
   * Swaps the socket under a running core (a reload that changed bind, peers or multicast):
   * state, identity and epoch stay, so no lordship ends because a transport changed.
   */
  async replaceTransport(next: Transport): Promise<void> {
    const old = this.o.transport;
    this.o.transport = next;
    next.onDatagram((d) => this.onBytes(d.bytes));
    await old.close();
  }

  /**
   * Swaps the codec under a running core (a reload that changed the secrets or the codec's
   * options): the next packet in or out goes through `next`.
   */
  replaceCodec(next: WireCodec<P>): void {
    this.o.codec = next;
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
    const now = this.clock.mono();
    // a wakeAt in the past means "now"; the floor keeps a confused core from spinning the loop
    const delay = Math.max(1, Math.ceil(wakeAt - now));
    if (this.timer && this.timerAt <= now + delay) return;
    this.disarm();
    this.timerAt = now + delay;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.timerAt = Number.POSITIVE_INFINITY;
      this.apply({ type: 'tick' });
    }, delay);
  }

  private disarm(): void {
    if (this.timer) clearTimeout(this.timer);
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
        void this.awaitHooks();
        return;
      case 'stopped':
        this.stopped = true;
        if (this.timer) clearTimeout(this.timer);
        this.timer = null;
        // death hooks were queued just before this effect; wait for them (bounded) and finish
        void this.withTimeout(this.o.sink.drained(), this.o.holdTimeoutMs).then(() =>
          this.stoppedResolve?.(),
        );
        return;
    }
  }

  private async awaitHooks(): Promise<void> {
    const drained = await this.withTimeout(this.o.sink.drained(), this.o.holdTimeoutMs);
    if (!drained)
      this.o.logger.warn({ legion: this.legion }, 'hooks still running at hold timeout; going on');
    this.apply({ type: 'hooks-drained' });
  }

  private async withTimeout(p: Promise<void>, ms: number): Promise<boolean> {
    let t: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((r) => {
      t = setTimeout(() => r(false), ms);
    });
    const ok = await Promise.race([p.then(() => true), timeout]);
    clearTimeout(t);
    return ok;
  }

  private send(packet: P, repeat: number): void {
    const spacing = this.o.repeatSpacingMs ?? 15;
    for (let i = 0; i < repeat; i++) {
      // each copy is encoded afresh so it carries its own sequence number and passes replay checks
      const go = () => {
        try {
          this.o.transport.send(this.o.codec.encode(packet, this.clock.wall()));
        } catch (e) {
          this.o.logger.error({ legion: this.legion, err: e }, 'could not encode an announce');
        }
      };
      if (i === 0) go();
      else {
        const t = setTimeout(() => {
          this.pendingSends.delete(t);
          go();
        }, i * spacing);
        this.pendingSends.add(t);
      }
    }
  }
}

function withoutLegion(fields: Record<string, unknown> | undefined): Record<string, unknown> {
  if (!fields || !('legion' in fields)) return fields ?? {};
  const { legion: _legion, ...rest } = fields;
  return rest;
}
