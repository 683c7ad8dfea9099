/**
 * Replay guard: per sender the last accepted seq, in a bounded map evicting the least recently
 * heard senders. A sender we do not track (new, or evicted) is accepted only if its wall clock is
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
  /**
   * Per sender the last accepted seq and when it was accepted (a counter). Updated in place:
   * keeping the stalest sender first by deleting and re-inserting at every packet made the map
   * churn and rehash, and a scan for the stalest is needed only when a sender too many arrives.
   */
  private readonly senders = new Map<string, { seq: bigint; heard: number }>();
  private heard = 0;

  constructor(o: ReplayGuardOptions = {}) {
    this.windowMs = o.windowMs ?? DEFAULT_REPLAY_WINDOW_MS;
    this.maxSenders = o.maxSenders ?? DEFAULT_MAX_SENDERS;
    if (!(this.windowMs >= 0)) throw protocolError('ERR_LIMIT', 'replay window must be >= 0');
    if (!Number.isInteger(this.maxSenders) || this.maxSenders < 1) {
      throw protocolError('ERR_LIMIT', 'maxSenders must be a positive integer');
    }
  }

  get size(): number {
    return this.senders.size;
  }

  /** Throws ERR_REPLAY if the packet must be refused; changes nothing. */
  check(sender: string, seq: bigint, sentAtMs: number, wallNowMs: number): void {
    const known = this.senders.get(sender);
    if (known !== undefined) refuseOld(sender, seq, known.seq);
    else this.checkWindow(sender, sentAtMs, wallNowMs);
  }

  /**
   * `check` then `accept` with one lookup: the receive path does both for every packet, and a
   * legion of N simulated on one machine makes N² of them per round of announces.
   */
  admit(sender: string, seq: bigint, sentAtMs: number, wallNowMs: number): void {
    const known = this.senders.get(sender);
    if (known === undefined) {
      this.checkWindow(sender, sentAtMs, wallNowMs);
      this.insert(sender, seq);
      return;
    }
    refuseOld(sender, seq, known.seq);
    this.touch(known, seq);
  }

  /** Records an authenticated, accepted packet. */
  accept(sender: string, seq: bigint): void {
    const known = this.senders.get(sender);
    if (known !== undefined) this.touch(known, seq);
    else this.insert(sender, seq);
  }

  /** a sender we do not track is accepted only while its clock is within the window of ours */
  private checkWindow(sender: string, sentAtMs: number, wallNowMs: number): void {
    if (!(Math.abs(sentAtMs - wallNowMs) <= this.windowMs)) {
      throw protocolError(
        'ERR_REPLAY',
        `first packet from ${sender} sent at ${sentAtMs}, now ${wallNowMs}, outside ±${this.windowMs} ms`,
      );
    }
  }

  private touch(known: { seq: bigint; heard: number }, seq: bigint): void {
    known.seq = seq;
    known.heard = ++this.heard;
  }

  private insert(sender: string, seq: bigint): void {
    this.senders.set(sender, { seq, heard: ++this.heard });
    if (this.senders.size > this.maxSenders) this.evictStalest();
  }

  /**
   * Drops the stalest sixteenth (at least one) in one pass, so that a flood of new identities
   * costs a scan per sixteenth of the capacity rather than per packet.
   */
  private evictStalest(): void {
    const batch = Math.max(1, this.maxSenders >> 4);
    const order = Array.from(this.senders.values(), (e) => e.heard).sort((a, b) => a - b);
    const cut = order[batch - 1]!;
    for (const [sender, e] of this.senders) if (e.heard <= cut) this.senders.delete(sender);
  }

  /** Last accepted seq of a sender, if tracked. */
  last(sender: string): bigint | undefined {
    return this.senders.get(sender)?.seq;
  }

  forget(sender: string): void {
    this.senders.delete(sender);
  }
}

function refuseOld(sender: string, seq: bigint, last: bigint): void {
  if (seq <= last) throw protocolError('ERR_REPLAY', `seq ${seq} from ${sender} not above ${last}`);
}
