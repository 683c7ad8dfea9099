/**
 * Folded heartbeats (scenario `heartbeats: folded`): a way to run big legions for long, where
 * N·(N-1) deliveries per interval of announces that repeat what everyone knows would cost hours.
 *
 * An announce that repeats its sender's last one except for timing (a heartbeat) is not delivered
 * packet by packet. Its time is noted once, and each receiver's peer table takes the times of all
 * its senders in one pass (src/legion/membership.ts) before the core next needs them. Everything that
 * carries news goes through the real codec and the real step as usual: a changed vote, epoch,
 * flag, valor or scroll, a death announce, and any heartbeat to a receiver that has not yet
 * taken in the sender's current announce (it lost it, restarted, or dropped the sender). A
 * change of the view digest alone is not news: receivers store it and act on nothing in it, so
 * their records keep the digest of the last announce that reached them in full.
 *
 * What is given up, and why it is tolerable: folded heartbeats are not lost, delayed by jitter or
 * duplicated (loss still hits every packet that carries news, and the full-fidelity scenarios
 * show that heartbeat loss alone, with attestations, causes no expiry up to 30 %); they carry no
 * attestations; and a receiver's record of a sender lags by up to a lease before it is refreshed,
 * which the core's decisions cannot see (membership.ts). Partitions, crashes and pauses still stop
 * them: a heartbeat counts for a receiver only while its link is up and the sender runs.
 */

import { sameDecisive } from '../src/legion/announce.js';
import type { Announced } from '../src/legion/types.js';
import type { Network } from './network.js';

/** A receiver's table positions, and for each the slot, generation and uuid string found there. */
interface SlotCache {
  slots: Int32Array;
  gens: Int32Array;
  uuids: string[];
}

export class HeartbeatFolder {
  private readonly size: number;
  private readonly slotOf = new Map<string, number>();
  private readonly uuidOf: string[];
  /** each slot's current announce, as last sent with news */
  private readonly current: (Announced | null)[];
  /**
   * the decoded copy of it that a receiver last found equal: every receiver of one broadcast is
   * handed the same decoded object, so the rest compare by identity, not field by field
   */
  private readonly currentCopy: (Announced | null)[];
  /** bumped at each start, so a receiver's cached slot for a table position can be checked cheaply */
  private readonly generation: Int32Array;
  /** arrival of each slot's latest heartbeat, and of the one before (the latest may be in flight) */
  private readonly lastBeat: Float64Array;
  private readonly prevBeat: Float64Array;
  /**
   * stale[to * size + from]: `to` has not taken in `from`'s current announce. Receiver-major, as
   * a refresh reads one receiver's row: sender-major, every entry it read was a cache miss.
   */
  private readonly stale: Uint8Array;
  private readonly staleCount: Int32Array;
  /** per receiver: the slot last found at each position of its peer table (see heardBy) */
  private readonly slotsAt: (SlotCache | undefined)[] = [];
  /** slots with a running process: only they can need anything */
  private readonly up: Uint8Array;

  constructor(
    size: number,
    private readonly network: Network,
  ) {
    this.size = size;
    this.uuidOf = Array.from({ length: size }, () => '');
    this.current = Array.from({ length: size }, () => null);
    this.currentCopy = Array.from({ length: size }, () => null);
    this.generation = new Int32Array(size);
    this.lastBeat = new Float64Array(size).fill(Number.NEGATIVE_INFINITY);
    this.prevBeat = new Float64Array(size).fill(Number.NEGATIVE_INFINITY);
    this.stale = new Uint8Array(size * size);
    this.staleCount = new Int32Array(size);
    this.up = new Uint8Array(size);
  }

  /** A new incarnation: it knows no one, and no one knows what it announces. */
  started(slot: number, uuid: string): void {
    this.slotOf.set(uuid, slot);
    this.uuidOf[slot] = uuid;
    this.up[slot] = 1;
    this.generation[slot]!++;
    this.current[slot] = null;
    this.currentCopy[slot] = null;
    this.lastBeat[slot] = Number.NEGATIVE_INFINITY;
    this.prevBeat[slot] = Number.NEGATIVE_INFINITY;
    for (let other = 0; other < this.size; other++) {
      if (other === slot) continue;
      this.mark(slot, other);
      this.mark(other, slot);
    }
  }

  /** The process on `slot` is gone: nothing needs to reach it until it starts again. */
  stopped(slot: number): void {
    this.up[slot] = 0;
    for (let from = 0; from < this.size; from++) {
      const i = slot * this.size + from;
      if (this.stale[i] === 1) {
        this.stale[i] = 0;
        this.staleCount[from]!--;
      }
    }
  }

  /**
   * Whether `packet` may be folded: it repeats the sender's current announce and is not a death
   * announce (every copy of those goes out, as the daemon sends them).
   */
  isHeartbeat(slot: number, packet: Announced): boolean {
    const cur = this.current[slot] ?? null;
    return cur !== null && !packet.flags.dead && sameDecisive(cur, packet);
  }

  /** An announce with news goes out in full: until they take it in, receivers get no heartbeats. */
  news(slot: number, packet: Announced): void {
    this.current[slot] = packet;
    this.currentCopy[slot] = null;
    for (let to = 0; to < this.size; to++) if (to !== slot) this.mark(slot, to);
  }

  /**
   * Notes a heartbeat sent at `sentAt`. It counts from its arrival over the network's current
   * default link (a `network` fault may have changed the delay since the scenario began).
   */
  beat(slot: number, sentAt: number): void {
    this.prevBeat[slot] = this.lastBeat[slot]!;
    this.lastBeat[slot] = sentAt + this.network.defaultLink.delayMs;
  }

  needsFull(from: number, to: number): boolean {
    return this.stale[to * this.size + from] === 1;
  }

  /** Whether some receiver that needs `from`'s announce in full can be reached now. */
  anyReachable(from: number): boolean {
    if (this.staleCount[from] === 0) return false;
    const size = this.size;
    const cut = this.network.partitioned;
    for (let to = 0; to < size; to++) {
      if (this.stale[to * size + from] === 1 && !(cut && this.network.isBlocked(from, to))) return true;
    }
    return false;
  }

  /**
   * `to` took in a packet from slot `from`, identity `uuid`: if it is that incarnation's current
   * announce, heartbeats count again.
   */
  delivered(from: number, uuid: string, to: number, packet: Announced): void {
    const i = to * this.size + from;
    if (this.stale[i] === 0 || this.uuidOf[from] !== uuid) return;
    const cur = this.current[from] ?? null;
    if (cur === null) return;
    if (packet === this.currentCopy[from] || sameDecisive(cur, packet)) {
      this.currentCopy[from] = packet;
      this.stale[i] = 0;
      this.staleCount[from]!--;
    }
  }

  /** `to` dropped the member `uuid` (timeout or death): it must hear it in full to know it again. */
  forgot(to: number, uuid: string): void {
    const from = this.slotOf.get(uuid);
    if (from !== undefined && this.uuidOf[from] === uuid) this.mark(from, to);
  }

  /**
   * When receiver `to` last heard `uuid` by heartbeat, as of `now`; -Infinity when it did not.
   * The slot found for each position of the receiver's table is remembered, with the uuid string
   * and the slot's generation it was found for: positions stay put while no one joins or leaves,
   * and a record keeps its uuid string, so the check is an identity comparison, not 36
   * characters read from a record out of cache.
   */
  heardBy(to: number, now: number): (uuid: string, index: number) => number {
    const { slotOf, uuidOf, stale, lastBeat, prevBeat, size, network, generation } = this;
    const cut = network.partitioned;
    let cache = this.slotsAt[to];
    if (cache === undefined) {
      cache = {
        slots: new Int32Array(size).fill(-1),
        gens: new Int32Array(size),
        uuids: new Array(size).fill(''),
      };
      this.slotsAt[to] = cache;
    }
    const { slots, gens, uuids } = cache;
    const row = to * size;
    return (uuid, index) => {
      let from = -1;
      if (index < size) {
        from = slots[index]!;
        if (from >= 0 && (uuids[index] !== uuid || gens[index] !== generation[from])) from = -1;
      }
      if (from < 0) {
        from = slotOf.get(uuid) ?? -1;
        if (from < 0 || uuidOf[from] !== uuid) return Number.NEGATIVE_INFINITY;
        if (index < size) {
          slots[index] = from;
          gens[index] = generation[from]!;
          uuids[index] = uuid;
        }
      }
      if (stale[row + from] === 1) return Number.NEGATIVE_INFINITY;
      if (cut && network.isBlocked(from, to)) return Number.NEGATIVE_INFINITY;
      const last = lastBeat[from]!;
      return last <= now ? last : prevBeat[from]!;
    };
  }

  private mark(from: number, to: number): void {
    const i = to * this.size + from;
    if (this.stale[i] === 0 && this.up[to] === 1) {
      this.stale[i] = 1;
      this.staleCount[from]!++;
    }
  }
}
