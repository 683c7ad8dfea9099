/**
 * The strong-mode core's "transport": it carries the core's engine requests out to an
 * EngineClient and its answers (and the watch's change notices) back in as packets. It is
 * Transport-shaped so LegionRunner drives the engine core as it drives the UDP ones: requests
 * arrive through `sendAnnounce` (the runner hands the packet object over unencoded), answers go
 * back through `onPacket`. No timing lives here: the core stamps, times out and retries its
 * requests itself, so all of that is tested on virtual time.
 */

import type { EngineHealth } from '../control/results.js';
import type { EngineMessage, EngineReply, EngineRequest, ReplyValue } from '../legion/engine/types.js';
import type { Datagram, Transport, TransportStats } from '../transport/types.js';
import type { EngineClient } from './types.js';

export type { EngineHealth };

export class EngineLink implements Transport {
  private handler: ((p: EngineMessage) => void) | null = null;
  private unwatch: (() => void) | null = null;
  private closed = false;
  private requests = 0;
  private replies = 0;
  private failures = 0;
  private reachable = true;
  private unreachableSince: number | null = null;
  private lastError: string | null = null;

  constructor(
    readonly backend: string,
    private readonly client: EngineClient,
  ) {}

  /** the runner's way in for a core whose packets are not bytes */
  onPacket(handler: (packet: EngineMessage) => void): void {
    this.handler = handler;
    this.unwatch ??= this.client.watch(() => this.deliver({ dir: 'changed' }));
  }

  sendAnnounce(packet: EngineMessage): void {
    if (packet.dir === 'request') this.execute(packet);
  }

  send(_bytes: Uint8Array): void {
    // the engine core's packets never become bytes; nothing to send
  }

  onDatagram(_handler: (d: Datagram) => void): void {}

  stats(): TransportStats {
    return {
      packetsSent: this.requests,
      bytesSent: 0,
      packetsReceived: this.replies,
      bytesReceived: 0,
      sendErrors: this.failures,
    };
  }

  health(): EngineHealth {
    return {
      backend: this.backend,
      reachable: this.reachable,
      unreachableSince: this.unreachableSince === null ? null : new Date(this.unreachableSince).toISOString(),
      lastError: this.lastError,
      requests: this.requests,
      failures: this.failures,
    };
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatch?.();
    this.unwatch = null;
    await this.client.close();
  }

  private deliver(p: EngineMessage): void {
    if (!this.closed) this.handler?.(p);
  }

  private execute(req: EngineRequest): void {
    this.requests++;
    this.call(req).then(
      (value) => {
        this.replies++;
        this.reachable = true;
        this.unreachableSince = null;
        this.deliver({ dir: 'reply', id: req.id, ok: true, value });
      },
      (e: unknown) => {
        this.failures++;
        const error = e instanceof Error ? e.message : String(e);
        this.lastError = `${req.kind}: ${error}`;
        if (this.reachable) this.unreachableSince = Date.now();
        this.reachable = false;
        const reply: EngineReply = { dir: 'reply', id: req.id, ok: false, kind: req.kind, error };
        this.deliver(reply);
      },
    );
  }

  private async call(req: EngineRequest): Promise<ReplyValue> {
    const c = this.client;
    switch (req.kind) {
      case 'register':
        await c.register(req.me, req.ttlMs);
        return { kind: 'register' };
      case 'unregister':
        await c.unregister(req.uuid);
        return { kind: 'unregister' };
      case 'snapshot':
        return { kind: 'snapshot', snapshot: await c.snapshot() };
      case 'acquire':
        return { kind: 'acquire', result: await c.acquire(req.uuid, req.ttlMs) };
      case 'renew':
        return { kind: 'renew', held: await c.renew(req.uuid, req.epoch, req.ttlMs) };
      case 'release':
        await c.release(req.uuid, req.epoch);
        return { kind: 'release' };
    }
  }
}
