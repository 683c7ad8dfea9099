import { createSocket, type Socket } from 'node:dgram';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { LegiondError } from '../errors.js';
import { defaultLookup, type LookupFn, PeerSet } from './peers.js';
import type { Datagram, Transport, TransportStats } from './types.js';

export interface UdpTransportOptions {
  bind: { address: string; port: number };
  multicast?: { group: string; port: number; interface?: string; ttl: number; loop: boolean };
  peers: Array<{ host: string; port: number }>;
  /** how often peer names are looked up again; 0 resolves them only at open */
  peerResolveIntervalMs: number;
}

/** Seams for tests; the daemon passes none. */
export interface UdpTransportDeps {
  lookup?: LookupFn;
}

export interface UdpTransport extends Transport {
  /** the bound address (useful with port 0) */
  address(): { address: string; port: number; family: 4 | 6 };
  /** where `send` currently goes */
  destinations(): Array<{ address: string; port: number }>;
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
  const peers = new PeerSet(opts.peers, family as 4 | 6, deps.lookup ?? defaultLookup, logger);
  const socket = createSocket({ type: family === 6 ? 'udp6' : 'udp4', reuseAddr: true });
  await bindSocket(socket, opts.bind);
  try {
    if (mc) {
      socket.addMembership(mc.group, mc.interface);
      if (mc.interface !== undefined) socket.setMulticastInterface(mc.interface);
      socket.setMulticastTTL(mc.ttl);
      socket.setMulticastLoopback(mc.loop);
    }
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
  return new DgramTransport(socket, family as 4 | 6, mc, peers, logger);
}

function bindSocket(socket: Socket, bind: { address: string; port: number }): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      socket.close();
      reject(
        new LegiondError('ERR_BIND', `cannot bind UDP ${bind.address}:${bind.port}: ${err.message}`, {
          cause: err,
        }),
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

  constructor(
    private readonly socket: Socket,
    private readonly family: 4 | 6,
    private readonly multicast: UdpTransportOptions['multicast'],
    private readonly peers: PeerSet,
    private readonly logger: Logger,
  ) {
    socket.on('message', (msg, rinfo) => this.receive(msg, rinfo));
    // an ICMP error or similar must not become an unhandled 'error' event and crash the daemon
    socket.on('error', (err) => logger.warn({ err: err.message }, 'UDP socket error'));
  }

  send(bytes: Uint8Array): void {
    const dests = this.destinations();
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
    return { ...this.counters };
  }

  address(): { address: string; port: number; family: 4 | 6 } {
    const a = this.socket.address();
    return { address: a.address, port: a.port, family: this.family };
  }

  destinations(): Array<{ address: string; port: number }> {
    const out = this.peers.destinations();
    if (this.multicast) out.unshift({ address: this.multicast.group, port: this.multicast.port });
    return out;
  }

  close(): Promise<void> {
    if (!this.closing) {
      this.peers.stop();
      this.closing = new Promise((resolve) => this.socket.close(() => resolve()));
    }
    return this.closing;
  }

  private receive(msg: Buffer, rinfo: { address: string; port: number }): void {
    this.counters.packetsReceived++;
    this.counters.bytesReceived += msg.byteLength;
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
