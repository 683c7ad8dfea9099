/**
 * The simulated process around one node incarnation's LegionRunner, piece by piece: its clock
 * and timers on the event queue (NodeScheduler), its socket on the simulated network
 * (SimTransport, and FoldingTransport for folded heartbeats), its log (SimLogger). The runner is
 * the daemon's own (src/daemon/legion-runner.ts): only these ends are simulated.
 */
import type { AnnounceTransport, BulkHeartbeats, RunnerLogger } from '../src/daemon/legion-runner.js';
import type { Scheduler } from '../src/daemon/scheduler.js';
import { isLegiondError } from '../src/errors.js';
import type { Effect } from '../src/legion/types.js';
import type { Datagram, TransportStats } from '../src/transport/types.js';
import type { SimEvent, TimerEvent } from './events.js';
import type { HeartbeatFolder } from './heartbeats.js';
import type { Prng } from './prng.js';
import type { Copy, FoldRule } from './protocol.js';
import type { TraceRecord } from './trace.js';

/** Counters of a run; the hot ones are fields, not map entries. */
export class SimCounters {
  steps = 0;
  accepted = 0;
  sent = 0;
  folded = 0;
  heardRefresh = 0;
  private readonly other = new Map<string, number>();

  count(what: string, n = 1): void {
    this.other.set(what, (this.other.get(what) ?? 0) + n);
  }

  /** every counter that moved, by name, sorted */
  snapshot(): Record<string, number> {
    const all = new Map(this.other);
    const fast: [string, number][] = [
      ['steps', this.steps],
      ['accepted', this.accepted],
      ['sent', this.sent],
      ['folded', this.folded],
      ['heard-refresh', this.heardRefresh],
    ];
    for (const [k, v] of fast) if (v > 0) all.set(k, v);
    return Object.fromEntries([...all].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)));
  }
}

/** What the process pieces need from the simulation. */
export interface ProcessEnv {
  readonly rng: Prng;
  readonly wallBaseMs: number;
  readonly folder: HeartbeatFolder | null;
  readonly counters: SimCounters;
  now(): number;
  schedule(at: number, ev: SimEvent): void;
  broadcast(from: number, bytes: Uint8Array, only?: (to: number) => boolean): void;
  record(r: TraceRecord): void;
  log?(slot: number, e: Extract<Effect, { type: 'log' }>): void;
  /**
   * a bug in the code under test, met where throwing cannot end the run (inside a promise
   * chain): the run stops with it at its next settle
   */
  fail?(error: unknown): void;
}

/** What the process pieces read of their node slot. */
export interface ProcessSlot {
  readonly slot: number;
  readonly skewMs: number;
  /** `up`: runs; `paused`: frozen; else gone */
  readonly status: string;
  /** set while a resumed node runs its overdue timers, before it reads what it missed */
  readonly deaf: boolean;
}

/** Virtual time, the slot's skewed wall clock, the run's PRNG, and timers on the event queue. */
export class NodeScheduler implements Scheduler<TimerEvent> {
  readonly mono = (): number => this.env.now();
  readonly wall = (): number => this.env.wallBaseMs + this.env.now() + this.node.skewMs;
  readonly rand = (): number => this.env.rng.float();

  constructor(
    private readonly env: ProcessEnv,
    private readonly node: ProcessSlot,
    private readonly inc: number,
  ) {}

  setTimer(fn: () => void, ms: number): TimerEvent {
    const ev: TimerEvent = { k: 'timer', slot: this.node.slot, inc: this.inc, fn, live: true };
    this.env.schedule(this.env.now() + ms, ev);
    return ev;
  }

  clearTimer(ev: TimerEvent): void {
    ev.live = false;
  }
}

const ZERO = new Uint8Array(0);

/**
 * The node's socket: a send is one broadcast on the simulated network, a copy arriving is one
 * datagram. `delivering` is the broadcast whose copy is being read, so the codec can open it
 * once for every receiver.
 */
export class SimTransport implements AnnounceTransport<unknown> {
  delivering: Copy | null = null;
  private handler: ((d: Datagram) => void) | null = null;
  private readonly datagram: Datagram;

  constructor(
    protected readonly env: ProcessEnv,
    protected readonly node: ProcessSlot,
  ) {
    this.datagram = { bytes: ZERO, from: { address: 'sim', port: node.slot } };
  }

  send(bytes: Uint8Array): void {
    this.env.counters.sent++;
    this.env.broadcast(this.node.slot, bytes);
  }

  sendAnnounce(packet: unknown, encode: (packet: unknown) => Uint8Array): void {
    const bytes = this.encode(packet, encode);
    if (bytes === null) return;
    this.send(bytes);
  }

  /** one copy of a broadcast for this node: read now (the node decides when) */
  deliver(copy: Copy): void {
    const h = this.handler;
    if (h === null) return;
    this.delivering = copy;
    this.datagram.bytes = copy.bytes;
    try {
      h(this.datagram);
    } finally {
      this.delivering = null;
    }
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  stats(): TransportStats {
    return { packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0, sendErrors: 0 };
  }

  async close(): Promise<void> {
    this.handler = null;
  }

  protected encode(packet: unknown, encode: (packet: unknown) => Uint8Array): Uint8Array | null {
    try {
      return encode(packet);
    } catch (e) {
      const env = this.env;
      env.counters.count(`encode-error:${isLegiondError(e) ? e.code : 'ERR_INTERNAL'}`);
      env.record({
        t: env.now(),
        kind: 'note',
        slot: this.node.slot,
        text: `encode failed: ${(e as Error).message}`,
      });
      return null;
    }
  }
}

/**
 * A socket with folded heartbeats (sim/heartbeats.ts): a repeat of the node's current announce
 * is noted as a heartbeat instead of sent, except to receivers that still need it in full, and
 * the runner takes the heartbeats heard in bulk before its core needs them.
 */
export class FoldingTransport extends SimTransport implements BulkHeartbeats {
  private readonly needsFull: (to: number) => boolean;

  constructor(
    env: ProcessEnv,
    node: ProcessSlot,
    private readonly folder: HeartbeatFolder,
    private readonly rule: FoldRule<unknown>,
  ) {
    super(env, node);
    this.needsFull = (to) => folder.needsFull(node.slot, to);
  }

  override sendAnnounce(packet: unknown, encode: (packet: unknown) => Uint8Array): void {
    const { folder, env } = this;
    const slot = this.node.slot;
    const a = this.rule.announced(packet);
    let only: ((to: number) => boolean) | undefined;
    if (folder.isHeartbeat(slot, a)) {
      env.counters.folded++;
      folder.beat(slot, env.now());
      // across a partition, those who dropped this node cannot get it: no packet to build
      if (!folder.anyReachable(slot)) return;
      // receivers that missed the news still get it, as they would from any later announce
      only = this.needsFull;
    } else {
      folder.news(slot, a);
    }
    const bytes = this.encode(packet, encode);
    if (bytes === null) return;
    env.counters.sent++;
    env.broadcast(slot, bytes, only);
  }

  heardBy(now: number): ((uuid: string, index: number) => number) | null {
    if (this.node.status !== 'up' || this.node.deaf) return null;
    this.env.counters.heardRefresh++;
    return this.folder.heardBy(this.node.slot, now);
  }
}

type Level = 'debug' | 'info' | 'warn' | 'error';
const LOG_KEY: Record<Level, string> = {
  debug: 'log:debug',
  info: 'log:info',
  warn: 'log:warn',
  error: 'log:error',
};

/** The runner's log: counted, handed to `env.log`; an unexpected error fails the run. */
export class SimLogger implements RunnerLogger {
  constructor(
    private readonly env: ProcessEnv,
    private readonly slot: number,
  ) {}

  debug(fields: unknown, msg?: string): void {
    this.line('debug', fields, msg);
  }

  info(fields: unknown, msg?: string): void {
    this.line('info', fields, msg);
  }

  warn(fields: unknown, msg?: string): void {
    this.line('warn', fields, msg);
  }

  error(fields: unknown, msg?: string): void {
    const err = (fields as { err?: unknown } | null)?.err;
    // a bug in the code under test is not a finding about the legion
    if (err instanceof Error && !isLegiondError(err)) {
      this.env.fail?.(err);
      throw err;
    }
    this.line('error', fields, msg);
  }

  private line(level: Level, fields: unknown, msg?: string): void {
    this.env.counters.count(LOG_KEY[level]);
    this.env.log?.(this.slot, {
      type: 'log',
      level,
      msg: msg ?? '',
      fields: (fields ?? {}) as Record<string, unknown>,
    });
  }
}
