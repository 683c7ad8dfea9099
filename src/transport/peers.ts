import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import { LegiondError } from '../errors.js';

export type LookupFn = (host: string, family: 4 | 6) => Promise<string>;

export const defaultLookup: LookupFn = async (host, family) => (await dnsLookup(host, { family })).address;

interface Peer {
  host: string;
  port: number;
  /** last address that resolved; kept when a later lookup fails */
  address: string | null;
}

/**
 * Unicast destinations. Names are resolved at start and again on an interval, because a peer
 * that is rescheduled elsewhere keeps its name but not its address.
 */
export class PeerSet {
  private readonly peers: Peer[];
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;

  constructor(
    peers: ReadonlyArray<{ host: string; port: number }>,
    private readonly family: 4 | 6,
    private readonly lookup: LookupFn,
    private readonly logger: Logger,
  ) {
    this.peers = peers.map((p) => {
      const literal = isIP(p.host);
      if (literal !== 0 && literal !== family) {
        throw new LegiondError(
          'ERR_ADDRESS',
          `peer ${p.host}:${p.port} is IPv${literal} but the socket is IPv${family}`,
        );
      }
      return { host: p.host, port: p.port, address: literal !== 0 ? p.host : null };
    });
  }

  /** resolves every name now; then again every `intervalMs` (0 = never) */
  async start(intervalMs: number): Promise<void> {
    await this.resolveAll();
    if (intervalMs > 0 && this.peers.some((p) => isIP(p.host) === 0)) {
      this.timer = setInterval(() => void this.resolveAll(), intervalMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  destinations(): Array<{ address: string; port: number }> {
    const out: Array<{ address: string; port: number }> = [];
    for (const p of this.peers) if (p.address !== null) out.push({ address: p.address, port: p.port });
    return out;
  }

  private async resolveAll(): Promise<void> {
    // a slow resolver must not pile up lookups
    if (this.inFlight) return;
    this.inFlight = true;
    try {
      await Promise.all(this.peers.filter((p) => isIP(p.host) === 0).map((p) => this.resolve(p)));
    } finally {
      this.inFlight = false;
    }
  }

  private async resolve(peer: Peer): Promise<void> {
    try {
      const address = await this.lookup(peer.host, this.family);
      if (address !== peer.address) {
        this.logger.info(
          { peer: peer.host, port: peer.port, address, previous: peer.address },
          'peer resolved',
        );
        peer.address = address;
      }
    } catch (err) {
      this.logger.warn(
        { peer: peer.host, port: peer.port, keeping: peer.address, err: (err as Error).message },
        'peer name lookup failed',
      );
    }
  }
}
