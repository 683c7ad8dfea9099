/**
 * Replay guard: per sender the last accepted seq, in a bounded map evicting the least recently
 * heard sender. A sender we do not track (new, or evicted) is accepted only if its wall clock is
 * within the window, so an old capture cannot be replayed after eviction for longer than that.
 */
import { protocolError } from './errors.js';
import { DEFAULT_MAX_SENDERS, DEFAULT_REPLAY_WINDOW_MS } from './limits.js';

export interface ReplayGuardOptions {
  windowMs?: number;
  maxSenders?: number;
}

export class ReplayGuard {
  readonly windowMs: number;
  readonly maxSenders: number;
  // Map iteration order is insertion order: re-inserting on accept keeps the stalest sender first.
  private readonly lastSeq = new Map<string, bigint>();

  constructor(o: ReplayGuardOptions = {}) {
    this.windowMs = o.windowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.maxSenders = o.maxSenders ?? DEFAULT_MAX_SENDERS;
    if (!(this.windowMs >= 0)) throw protocolError('ERR_LIMIT', 'replay window must be >= 0');
    if (!Number.isInteger(this.maxSenders) || this.maxSenders < 1) {
      throw protocolError('ERR_LIMIT', 'maxSenders must be a positive integer');
    }
  }

  get size(): number {
    return this.lastSeq.size;
  }

  /** Throws ERR_REPLAY if the packet must be refused; changes nothing. */
  check(sender: string, seq: bigint, sentAtMs: number, wallNowMs: number): void {
    const last = this.lastSeq.get(sender);
    if (last !== undefined) {
      if (seq <= last) throw protocolError('ERR_REPLAY', `seq ${seq} from ${sender} not above ${last}`);
      return;
    }
    if (!(Math.abs(sentAtMs - wallNowMs) <= this.windowMs)) {
      throw protocolError(
        'ERR_REPLAY',
        `first packet from ${sender} sent at ${sentAtMs}, now ${wallNowMs}, outside ±${this.windowMs} ms`,
      );
    }
  }

  /** Records an authenticated, accepted packet. */
  accept(sender: string, seq: bigint): void {
    this.lastSeq.delete(sender);
    this.lastSeq.set(sender, seq);
    while (this.lastSeq.size > this.maxSenders) {
      const oldest = this.lastSeq.keys().next().value;
      if (oldest === undefined) break;
      this.lastSeq.delete(oldest);
    }
  }

  /** Last accepted seq of a sender, if tracked. */
  last(sender: string): bigint | undefined {
    return this.lastSeq.get(sender);
  }

  forget(sender: string): void {
    this.lastSeq.delete(sender);
  }
}
