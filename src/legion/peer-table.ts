/**
 * The live peers, keyed by UUID, with the few summaries every step needs kept up to date as
 * records come and go, so that a step costs O(1) however large the legion: a packet from a known
 * peer must not mean a scan of a thousand others.
 *
 * The table is part of the state `step` updates in place (copying a thousand entries per packet
 * was the main cost at scale).
 */
import { compareCandidates } from './compare.js';
import type { Announced } from './heard.js';
import type { PeerRecord } from './state.js';
import type { Mutable } from './step.js';
import { VoteTally } from './tally.js';

/** Heard directly more recently (ties by UUID): the order of the attestations an announce carries. */
export function fresher(a: PeerRecord, b: PeerRecord): boolean {
  return a.lastDirectMs > b.lastDirectMs || (a.lastDirectMs === b.lastDirectMs && a.uuid < b.uuid);
}

/** Keeps `top` the `k` freshest of the records offered so far, freshest first. */
export function offerFresh(top: PeerRecord[], p: PeerRecord, k: number): void {
  if (top.length === k && (k === 0 || !fresher(p, top[k - 1]!))) return;
  let i = top.length < k ? top.length : k - 1;
  while (i > 0 && fresher(p, top[i - 1]!)) {
    top[i] = top[i - 1]!;
    i--;
  }
  top[i] = p;
}

/** Whether a peer may be elected (valor > 0, not an arbiter, not draining, not dead). */
export function isCandidatePeer(p: PeerRecord): boolean {
  return p.valor > 0n && !p.flags.arbiter && !p.flags.draining && !p.flags.dead;
}

export class PeerTable {
  /** by composition, not `extends Map`: only set and delete may change it, and both keep the summaries */
  private readonly records = new Map<string, PeerRecord>();
  /** bumped when a member joins or leaves (not on refresh): the view digest depends on it */
  membership = 0;
  /** bumped whenever a vote, name or epoch of some member may have changed, or a member left */
  votes = 0;
  /**
   * No member's liveness is earlier than this; exact after `rescan`. Refreshes only move
   * liveness later, so the bound stays true between scans.
   */
  livenessFloor = Number.POSITIVE_INFINITY;
  /** how many members vote for each candidate, and the most any has: quorumAgrees reads it at every step until joined */
  readonly tally = new VoteTally();
  /** peers announcing the lord flag: almost always zero or one */
  readonly claimants = new Set<string>();
  /** cache slot of quorum.ts: until when the lease held at `votes` version (see leaseHoldsUntil) */
  lease: { votes: number; params: object; until: number; atMs: number } | null = null;
  private best: string | null = null;
  private bestValid = true;
  /**
   * The `freshK` members heard directly last, freshest first (all of them when fewer): what every
   * announce attests. Direct hearing only moves later, so a refresh moves a member up or in; only
   * a leave from the list, or a bulk refresh, calls for a scan.
   */
  private fresh: PeerRecord[] = [];
  private freshK = 0;
  private freshValid = false;
  private digest: { membership: number; value: number } | null = null;

  get size(): number {
    return this.records.size;
  }

  get(uuid: string): PeerRecord | undefined {
    return this.records.get(uuid);
  }

  has(uuid: string): boolean {
    return this.records.has(uuid);
  }

  keys(): MapIterator<string> {
    return this.records.keys();
  }

  values(): MapIterator<PeerRecord> {
    return this.records.values();
  }

  entries(): MapIterator<[string, PeerRecord]> {
    return this.records.entries();
  }

  [Symbol.iterator](): MapIterator<[string, PeerRecord]> {
    return this.records.entries();
  }

  set(uuid: string, rec: PeerRecord): this {
    const old = this.records.get(uuid);
    this.records.set(uuid, rec);
    if (old === undefined) {
      this.membership++;
      this.votes++;
    } else if (old.vote !== rec.vote || old.name !== rec.name || old.epoch !== rec.epoch) {
      this.votes++;
    }
    const live = rec.lastDirectMs > rec.attestedMs ? rec.lastDirectMs : rec.attestedMs;
    if (live < this.livenessFloor) this.livenessFloor = live;
    this.retrack(uuid, rec, old?.vote, old?.flags.lord ?? false, old?.valor);
    this.trackFresh(old, rec);
    return this;
  }

  /**
   * `rec`, a member, announced something new (`next`), heard directly at `now`: its record is
   * updated in place, with the same summaries as `set` would keep. A new object per packet with
   * news was a tenth of a big legion's cost, and left the table scattered over the heap.
   */
  revise(rec: PeerRecord, next: Announced, now: number): void {
    const prevVote = rec.vote;
    const prevValor = rec.valor;
    const wasLord = rec.flags.lord;
    if (prevVote !== next.vote || rec.name !== next.name || rec.epoch !== next.epoch) this.votes++;
    const w = rec as Mutable<PeerRecord>;
    w.name = next.name;
    w.valor = next.valor;
    w.epoch = next.epoch;
    w.vote = next.vote;
    w.flags = next.flags;
    w.scroll = next.scroll;
    w.viewDigest = next.viewDigest;
    // liveness only moves later, so the floor stays a bound
    if (now > rec.lastDirectMs) rec.lastDirectMs = now;
    this.retrack(rec.uuid, rec, prevVote, wasLord, prevValor);
    this.heardDirectly(rec);
  }

  /**
   * The tally, the claimants and the best candidate after member `uuid` came to announce `rec`
   * (`set` and `revise` alike); the `prev…` values are what it announced before, undefined for a
   * newcomer.
   */
  private retrack(
    uuid: string,
    rec: PeerRecord,
    prevVote: string | null | undefined,
    wasLord: boolean,
    prevValor: bigint | undefined,
  ): void {
    if (prevVote !== rec.vote) {
      if (prevVote !== undefined) this.untally(prevVote);
      if (rec.vote !== null) this.tally.add(rec.vote);
    }
    if (rec.flags.lord) this.claimants.add(uuid);
    else if (wasLord) this.claimants.delete(uuid);
    this.trackBest(prevValor, rec);
  }

  delete(uuid: string): boolean {
    const old = this.records.get(uuid);
    if (old === undefined) return false;
    this.records.delete(uuid);
    this.untally(old.vote);
    this.membership++;
    this.votes++;
    this.claimants.delete(uuid);
    if (uuid === this.best) this.bestValid = false;
    if (this.freshValid && this.fresh.includes(old)) this.freshValid = false;
    return true;
  }

  clear(): void {
    for (const k of [...this.keys()]) this.delete(k);
  }

  /** The best candidate peer (highest valor, then UUID), or null. */
  bestCandidate(): PeerRecord | null {
    if (!this.bestValid) {
      let best: PeerRecord | null = null;
      for (const p of this.values()) {
        if (isCandidatePeer(p) && (best === null || compareCandidates(p, best) > 0)) best = p;
      }
      this.best = best?.uuid ?? null;
      this.bestValid = true;
    }
    return this.best === null ? null : (this.records.get(this.best) ?? null);
  }

  /** The `k` members heard directly last, freshest first (ties by UUID). Do not modify. */
  freshest(k: number): readonly PeerRecord[] {
    if (!this.freshValid || this.freshK !== k) {
      // one pass keeping the freshest so far in order (sorting every member cost O(N log N))
      const top: PeerRecord[] = [];
      for (const p of this.values()) offerFresh(top, p, k);
      this.fresh = top;
      this.freshK = k;
      this.freshValid = true;
    }
    return this.fresh;
  }

  /** `rec`, a member, was just heard directly: its `lastDirectMs` moved later in place. */
  heardDirectly(rec: PeerRecord): void {
    if (this.freshValid) this.place(rec);
  }

  /**
   * Direct hearing moved for many members at once (a bulk refresh, heard.ts), which found the
   * `k` freshest on its way; without them the next read scans.
   */
  heardInBulk(top?: PeerRecord[], k?: number): void {
    if (top !== undefined && k !== undefined) {
      this.fresh = top;
      this.freshK = k;
      this.freshValid = true;
    } else {
      this.freshValid = false;
    }
  }

  /** A cached view digest, recomputed only when membership changed. */
  cachedDigest(compute: () => number): number {
    if (this.digest === null || this.digest.membership !== this.membership) {
      this.digest = { membership: this.membership, value: compute() };
    }
    return this.digest.value;
  }

  /** Sets `livenessFloor` to the exact minimum; callers that scan every member anyway pass it. */
  setLivenessFloor(exact: number): void {
    this.livenessFloor = exact;
  }

  private untally(vote: string | null): void {
    if (vote !== null) this.tally.remove(vote);
  }

  private trackFresh(old: PeerRecord | undefined, rec: PeerRecord): void {
    if (!this.freshValid) return;
    if (old !== undefined) {
      const i = this.fresh.indexOf(old);
      if (i >= 0) {
        // a replaced record heard earlier than before would have to move down: rescan instead
        if (rec.lastDirectMs < old.lastDirectMs) {
          this.freshValid = false;
          return;
        }
        this.fresh[i] = rec;
      }
    }
    this.place(rec);
  }

  /** Moves `rec` up to its place in `fresh`, entering it if it beats the last one. */
  private place(rec: PeerRecord): void {
    const top = this.fresh;
    let i = top.indexOf(rec);
    if (i < 0) {
      if (top.length >= this.freshK) {
        if (this.freshK === 0 || !fresher(rec, top[top.length - 1]!)) return;
        top.pop();
      }
      top.push(rec);
      i = top.length - 1;
    }
    while (i > 0 && fresher(rec, top[i - 1]!)) {
      top[i] = top[i - 1]!;
      i--;
    }
    top[i] = rec;
  }

  /** `prevValor`: what the member announced before, undefined for a newcomer */
  private trackBest(prevValor: bigint | undefined, rec: PeerRecord): void {
    if (!this.bestValid) return;
    const cand = isCandidatePeer(rec);
    if (rec.uuid === this.best) {
      // the best stays best unless it fell back or left the race
      if (!cand || (prevValor !== undefined && rec.valor < prevValor)) this.bestValid = false;
      return;
    }
    if (!cand) return;
    const best = this.best === null ? undefined : this.records.get(this.best);
    if (best === undefined || compareCandidates(rec, best) > 0) this.best = rec.uuid;
  }
}
