import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { LegiondError } from '../errors.js';
import { isHintPacket } from '../protocol/hints.js';
import { type LearningOptions, PeerLearning, unique } from './learning.js';
import { defaultLookup, type LookupFn, PeerSet } from './peers.js';
import type { Datagram, Transport, TransportStats } from './types.js';

export interface UdpTransportOptions {
  bind: { address: string; port: number };
  multicast?: { group: string; port: number; interface?: string; ttl: number; loop: boolean };
  peers: Array<{ host: string; port: number }>;
  /** how often peer names are looked up again; 0 resolves them only at open */
  peerResolveIntervalMs: number;
  /** learn the legion's other members through the peers (seeds); needs the legion's keys */
  learning?: LearningOptions;
}

/** Seams for tests; the daemon passes none. */
export interface UdpTransportDeps {
  lookup?: LookupFn;
}

/** What a reload may change on an open socket without binding another one. */
export type UdpTargets = Pick<
  UdpTransportOptions,
  'multicast' | 'peers' | 'peerResolveIntervalMs' | 'learning'
>;

export interface UdpTransport extends Transport {
  /** the bound address (useful with port 0) */
  address(): { address: string; port: number; family: 4 | 6 };
  /** where `send` currently goes */
  destinations(): Array<{ address: string; port: number }>;
  /**
   * Changes the peers and the multicast group in place, keeping the bound socket: a reload that
   * keeps the bind cannot open a second socket on a port the first holds exclusively. Everything
   * that can fail is checked first; on failure the transport is left as it was.
   */
  retarget(next: UdpTargets): Promise<void>;
}

export async function openUdpTransport(
  opts: UdpTransportOptions,
  logger: Logger,
  deps: UdpTransportDeps = {},
): Promise<UdpTransport> {
  const family = isIP(opts.bind.address);
  if (family === 0)
    throw new LegiondError('ERR_ADDRESS', `bind address "${opts.bind.address}" is not an IP address`);
  const mc = opts.multicast;
  if (mc && isIP(mc.group) !== family) {
    throw new LegiondError(
      'ERR_ADDRESS',
      `multicast group ${mc.group} is not IPv${family} like the bind address`,
    );
  }
  const lookup = deps.lookup ?? defaultLookup;
  const peers = new PeerSet(opts.peers, family as 4 | 6, lookup, logger);
  // SO_REUSEADDR only with multicast. Several daemons on one host may join one group, and each
  // must bind the group's port, so they share it. A unicast-only port belongs to one node: without
  // the option a second legiond on it fails with EADDRINUSE instead of silently splitting the
  // datagrams with the first (Linux hands each unicast datagram to one of the sharers).
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: mc !== undefined });
  await bindSocket(socket, opts.bind);
  try {
    if (mc) joinGroup(socket, mc);
    await peers.start(opts.peerResolveIntervalMs);
  } catch (err) {
    peers.stop();
    socket.close();
    if (err instanceof LegiondError) throw err;
    throw new LegiondError(
      'ERR_MULTICAST',
      `multicast setup for ${mc?.group} failed: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  return new DgramTransport(socket, family as 4 | 6, mc, peers, lookup, logger, opts.learning);
}

type Multicast = NonNullable<UdpTransportOptions['multicast']>;

function joinGroup(socket: Socket, mc: Multicast): void {
  socket.addMembership(mc.group, mc.interface);
  if (mc.interface !== undefined) socket.setMulticastInterface(mc.interface);
  socket.setMulticastTTL(mc.ttl);
  socket.setMulticastLoopback(mc.loop);
}

function sameMulticast(a: Multicast | undefined, b: Multicast | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  return (
    a.group === b.group &&
    a.port === b.port &&
    a.interface === b.interface &&
    a.ttl === b.ttl &&
    a.loop === b.loop
  );
}

function bindSocket(socket: Socket, bind: { address: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      socket.close();
      const where = `UDP ${bind.address}:${bind.port}`;
      reject(
        err.code === 'EADDRINUSE'
          ? new LegiondError(
              'ERR_ADDRESS_IN_USE',
              `${where} is already in use (another legiond on this port?)`,
              { cause: err },
            )
          : new LegiondError('ERR_BIND', `cannot bind ${where}: ${err.message}`, { cause: err }),
      );
    };
    socket.once('error', onError);
    socket.bind({ address: bind.address, port: bind.port }, () => {
      socket.off('error', onError);
      resolve();
    });
  });
}

class DgramTransport implements UdpTransport {
  private readonly handlers: Array<(d: Datagram) => void> = [];
  private readonly counters: TransportStats = {
    packetsSent: 0,
    bytesSent: 0,
    packetsReceived: 0,
    bytesReceived: 0,
    sendErrors: 0,
  };
  private closing: Promise<void> | null = null;
  private lastSendErrorLog = 0;
  private learning: PeerLearning | null = null;

  constructor(
    private readonly socket: Socket,
    private readonly family: 4 | 6,
    private multicast: UdpTransportOptions['multicast'],
    private peers: PeerSet,
    private readonly lookup: LookupFn,
    private readonly logger: Logger,
    learning?: LearningOptions,
  ) {
    this.relearn(learning);
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    // an ICMP error or similar must not become an unhandled 'error' event and crash the daemon
    socket.on('error', (err) => logger.warn({ err: err.message }, 'UDP socket error'));
  }

  send(bytes: Uint8Array): void {
    this.sendEach(bytes, this.destinations());
  }

  private sendEach(bytes: Uint8Array, dests: Array<{ address: string; port: number }>): void {
    for (const d of dests) {
      if (this.closing) {
        this.counters.sendErrors++;
        continue;
      }
      try {
        this.socket.send(bytes, d.port, d.address, (err) => {
          if (err) this.sendFailed(d, err);
          else {
            this.counters.packetsSent++;
            this.counters.bytesSent += bytes.byteLength;
          }
        });
      } catch (err) {
        this.sendFailed(d, err as Error);
      }
    }
  }

  onDatagram(handler: (d: Datagram) => void): void {
    this.handlers.push(handler);
  }

  stats(): TransportStats {
    return this.learning ? { ...this.counters, learning: this.learning.counters() } : { ...this.counters };
  }

  address(): { address: string; port: number; family: 4 | 6 } {
    const a = this.socket.address();
    return { address: a.address, port: a.port, family: this.family };
  }

  destinations(): Array<{ address: string; port: number }> {
    const out = this.peers.destinations();
    if (this.multicast) out.unshift({ address: this.multicast.group, port: this.multicast.port });
    if (!this.learning) return out;
    const learning = this.learning;
    return unique([...out, ...learning.destinations()]).filter((a) => !learning.isSelf(a));
  }

  async retarget(next: UdpTargets): Promise<void> {
    if (this.closing) throw new LegiondError('ERR_CLOSED', 'transport is closed');
    const mc = next.multicast;
    if (mc && isIP(mc.group) !== this.family) {
      throw new LegiondError(
        'ERR_ADDRESS',
        `multicast group ${mc.group} is not IPv${this.family} like the bind address`,
      );
    }
    // throws (family mismatch) before anything has changed
    const peers = new PeerSet(next.peers, this.family, this.lookup, this.logger);
    const old = this.multicast;
    if (!sameMulticast(old, mc)) {
      if (old) this.socket.dropMembership(old.group, old.interface);
      try {
        if (mc) joinGroup(this.socket, mc);
      } catch (err) {
        if (mc) {
          try {
            this.socket.dropMembership(mc.group, mc.interface);
          } catch {
            // the join failed before membership, nothing to undo
          }
        }
        if (old) {
          try {
            joinGroup(this.socket, old);
          } catch (again) {
            this.logger.error(
              { group: old.group, err: (again as Error).message },
              'could not rejoin the old multicast group',
            );
          }
        }
        throw new LegiondError(
          'ERR_MULTICAST',
          `multicast setup for ${mc?.group} failed: ${(err as Error).message}`,
          {
            cause: err,
          },
        );
      }
      if (mc && !old) {
        // SO_REUSEADDR is fixed at bind: this socket holds its port alone until legiond restarts
        this.logger.warn(
          { group: mc.group, port: mc.port },
          'multicast added to a unicast socket: other daemons on this host can share its port only after a restart',
        );
      }
      this.multicast = mc;
    }
    await peers.start(next.peerResolveIntervalMs);
    const previous = this.peers;
    this.peers = peers;
    previous.stop();
    // new keys or limits: the seeds teach the rest again within one round of hints
    this.relearn(next.learning);
  }

  private relearn(options: LearningOptions | undefined): void {
    this.learning?.stop();
    this.learning = options
      ? new PeerLearning(
          options,
          (bytes, to) => this.sendEach(bytes, to),
          () => this.peers.destinations(),
          this.logger,
        )
      : null;
    this.learning?.start();
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.peers.stop();
      this.learning?.stop();
      this.closing = new Promise((resolve) => this.socket.close(() => resolve()));
    }
    return this.closing;
  }

  private receive(msg: Buffer, rinfo: { address: string; port: number }): void {
    this.counters.packetsReceived++;
    this.counters.bytesReceived += msg.byteLength;
    if (this.learning && isHintPacket(msg)) {
      this.learning.receive(msg, { address: rinfo.address, port: rinfo.port });
      return;
    }
    const d: Datagram = { bytes: msg, from: { address: rinfo.address, port: rinfo.port } };
    for (const h of this.handlers) {
      try {
        h(d);
      } catch (err) {
        this.logger.error({ err, from: d.from }, 'datagram handler threw');
      }
    }
  }

  private sendFailed(dest: { address: string; port: number }, err: Error): void {
    this.counters.sendErrors++;
    // a dead route fails every announce; one line every 10 s is enough to notice
    const now = performance.now();
    if (now - this.lastSendErrorLog >= 10_000 || this.lastSendErrorLog === 0) {
      this.lastSendErrorLog = now;
      this.logger.warn({ dest, err: err.message, sendErrors: this.counters.sendErrors }, 'UDP send failed');
    }
  }
}
