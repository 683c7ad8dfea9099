/**
 * Virtual time for small harnesses (test/legion/driver.ts, test/uwsgi/harness.ts, the runner's
 * tests): one clock, one queue of callbacks, schedulers on it for LegionRunner, and a perfect
 * in-memory network behind the daemon's Transport interface. The simulator proper (world.ts)
 * has its own event loop with loss, delay, faults and folded heartbeats; this is the minimum a
 * test needs to run the daemon's shell on virtual time.
 */
import type { Scheduler } from '../src/daemon/scheduler.js';
import type { WireCodec } from '../src/daemon/wire.js';
import { LegiondError } from '../src/errors.js';
import type { Datagram, Transport, TransportStats } from '../src/transport/types.js';
import { EventQueue } from './queue.js';

/** A queued callback; clearing it sets `live` to false. */
export interface VirtualTimer {
  readonly fn: () => void;
  live: boolean;
}

export class VirtualTime {
  private t = 0;
  private readonly queue = new EventQueue<VirtualTimer>();

  get now(): number {
    return this.t;
  }

  /** Runs `fn` at `at` (now when `at` is in the past), after everything already queued for then. */
  at(at: number, fn: () => void): VirtualTimer {
    const timer = { fn, live: true };
    this.queue.push(Math.max(at, this.t), timer);
    return timer;
  }

  /** Runs every callback due up to `until`, in time order (ties in queueing order); the clock ends at `until`. */
  runUntil(until: number, maxEvents = 1_000_000): void {
    for (let n = 0; this.queue.peekTime() <= until; n++) {
      if (n >= maxEvents)
        throw new Error(`virtual time: more than ${maxEvents} events before ${until}, busy loop?`);
      this.t = this.queue.peekTime();
      const timer = this.queue.popItem()!;
      if (timer.live) {
        timer.live = false;
        timer.fn();
      }
    }
    this.t = Math.max(this.t, until);
  }

  /**
   * A scheduler on this clock. `running`: whether the process it belongs to still runs; a
   * crashed one's timers do nothing.
   */
  scheduler(o: {
    rand: () => number;
    wallBaseMs?: number;
    running?: () => boolean;
  }): Scheduler<VirtualTimer> {
    const wallBase = o.wallBaseMs ?? 0;
    const running = o.running ?? (() => true);
    return {
      mono: () => this.t,
      wall: () => wallBase + this.t,
      rand: o.rand,
      setTimer: (fn, ms) =>
        this.at(this.t + ms, () => {
          if (running()) fn();
        }),
      clearTimer: (timer) => {
        timer.live = false;
      },
    };
  }
}

/** A network without loss: every datagram reaches every other endpoint that is up, `delayMs` later. */
export class MemoryNetwork {
  private readonly endpoints: MemoryEndpoint[] = [];

  constructor(
    private readonly time: VirtualTime,
    private readonly delayMs = 0,
  ) {}

  /** `up`: whether the endpoint's process runs and has started (datagrams to it are dropped otherwise) */
  endpoint(up: () => boolean): Transport {
    const e = new MemoryEndpoint(this, up);
    this.endpoints.push(e);
    return e;
  }

  broadcast(from: MemoryEndpoint, bytes: Uint8Array): void {
    for (const to of this.endpoints) {
      if (to === from || to.closed) continue;
      this.time.at(this.time.now + this.delayMs, () => to.receive(bytes));
    }
  }
}

const FROM = { address: 'memory', port: 0 };

class MemoryEndpoint implements Transport {
  closed = false;
  private handler: ((d: Datagram) => void) | null = null;
  private readonly counts: TransportStats = {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    sendErrors: 0,
  };

  constructor(
    private readonly net: MemoryNetwork,
    private readonly up: () => boolean,
  ) {}

  send(bytes: Uint8Array): void {
    if (this.closed || !this.up()) return;
    this.counts.packetsSent++;
    this.counts.bytesSent += bytes.length;
    this.net.broadcast(this, bytes);
  }

  receive(bytes: Uint8Array): void {
    if (this.closed || !this.up() || this.handler === null) return;
    this.counts.packetsReceived++;
    this.counts.bytesReceived += bytes.length;
    this.handler({ bytes, from: FROM });
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handler = handler;
  }

  stats(): TransportStats {
    return { ...this.counts };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/**
 * Codecs that carry packets by reference: each encoded packet is a token that decodes, at any
 * codec of the same wire, to the very object sent. For tests about the shell and the core, not
 * the wire format.
 */
export class ReferenceWire<P> {
  private readonly sent = new WeakMap<Uint8Array, P>();

  /** one node's codec; `onEncode` sees every packet it encodes (each copy of a repeat) */
  codec(onEncode?: (packet: P) => void): WireCodec<P> {
    const sent = this.sent;
    return {
      encode: (packet) => {
        onEncode?.(packet);
        const token = new Uint8Array(1);
        sent.set(token, packet);
        return token;
      },
      decode: (bytes) => {
        const packet = sent.get(bytes);
        if (packet === undefined) throw new LegiondError('ERR_MALFORMED', 'not a packet of this wire');
        return packet;
      },
    };
  }
}
