/**
 * The peer table: the live peers, keyed by UUID, with the few summaries every step needs kept up to date as
 * records come and go, so that a step costs O(1) however large the legion: a packet from a known
 * peer must not mean a scan of a thousand others.
 *
 * The table is part of the state `step` updates in place (copying a thousand entries per packet
 * was the main cost at scale). Candidate order, liveness arithmetic and the vote tally live here
 * too: the table keeps its summaries with them.
 */

import type { Announced, Mutable, PeerRecord } from './types.js';

/** Candidate order: higher valor wins, ties go to the greater UUID (canonical lowercase text compares as bytes). */
export interface Ranked {
  valor: bigint;
  uuid: string;
}

export function compareCandidates(a: Ranked, b: Ranked): number {
  if (a.valor !== b.valor) return a.valor > b.valor ? 1 : -1;
  if (a.uuid === b.uuid) return 0;
  return a.uuid > b.uuid ? 1 : -1;
}

// Liveness arithmetic shared by membership, the vote, events and wake-up planning.

/** The latest moment anyone live is known to have heard the peer directly. */
export function liveness(p: PeerRecord): number {
  return Math.max(p.lastDirectMs, p.attestedMs);
}

/**
 * How long a vote stays fresh: shorter than the tolerance by a little more than one announce
 * interval, so a lord cut off from its voters steps down before they can declare it dead and
 * elect another (they heard its last announce at most one interval before it heard their votes).
 */
export function leaseMs(params: { toleranceMs: number; intervalMs: number }): number {
  return Math.max(params.intervalMs, params.toleranceMs - 1.2 * params.intervalMs);
}

/**
 * The last instant `p`'s vote is fresh if nothing more is heard. voteFresh and the lease cache
 * (vote.ts, leaseHoldsUntil) both compare against it, so they agree to the last bit of a fractional time.
 */
export function voteFreshUntil(p: PeerRecord, lease: number, toleranceMs: number): number {
  return Math.max(p.lastDirectMs + lease, Math.min(p.lastDirectMs + toleranceMs, p.attestedMs + lease));
}

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
  /** bumped whenever the claimants, or what one of them announced, may have changed (not on refresh) */
  claims = 0;
  /** cache slot of vote.ts: until when the lease held at `votes` version (see leaseHoldsUntil) */
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
    if (rec.flags.lord || wasLord) this.claims++;
    this.trackBest(prevValor, rec);
  }

  delete(uuid: string): boolean {
    const old = this.records.get(uuid);
    if (old === undefined) return false;
    this.records.delete(uuid);
    this.untally(old.vote);
    this.membership++;
    this.votes++;
    if (this.claimants.delete(uuid)) this.claims++;
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
   * Direct hearing moved for many members at once (a bulk refresh, membership.ts noteHeard), which found the
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

/**
 * How many members vote for each candidate, and the largest of those counts. Until a quorum
 * forms, a legion starting at once has about as many candidates as members, and asking "does any
 * candidate have Q votes?" by scanning them was O(N) at every step of the start-up storm.
 * Counts move by one at a time, so a histogram of counts keeps the maximum in O(1).
 */
export class VoteTally {
  private readonly counts = new Map<string, number>();
  /** `withCount[k]`: how many candidates hold exactly k votes (k >= 1) */
  private readonly withCount: number[] = [0];
  /** the largest count, 0 when nobody votes */
  max = 0;

  get(vote: string): number {
    return this.counts.get(vote) ?? 0;
  }

  get size(): number {
    return this.counts.size;
  }

  add(vote: string): void {
    const n = (this.counts.get(vote) ?? 0) + 1;
    this.counts.set(vote, n);
    if (n > 1) this.withCount[n - 1]!--;
    this.withCount[n] = (this.withCount[n] ?? 0) + 1;
    if (n > this.max) this.max = n;
  }

  remove(vote: string): void {
    const n = this.counts.get(vote);
    if (n === undefined) return;
    if (n > 1) {
      this.counts.set(vote, n - 1);
      this.withCount[n - 1]!++;
    } else {
      this.counts.delete(vote);
    }
    this.withCount[n]!--;
    // counts drop by one, so when the last holder of the maximum drops it sits one below
    if (n === this.max && this.withCount[n] === 0) this.max = n - 1;
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}
