/**
 * Unicast destinations learned at run time, beside the configured seeds. An address is either
 * confirmed (an authenticated hint came from it, so a member of the legion sends from there) or
 * suggested (a confirmed member listed it in its hint). Both expire unless heard of again, so a
 * member that died or moved drops out within `ttlMs`. Pure: the caller passes the time.
 */
import type { Hint, HintAddress } from '../protocol/hints.js';

export interface LearnedOptions {
  /** confirmed and suggested addresses together */
  max: number;
  ttlMs: number;
  /** how far a first hint's sentAtMs may be from our wall clock (later ones are ordered by seq) */
  replayWindowMs: number;
}

interface Entry {
  address: string;
  port: number;
  /** the member that sends from here; null while only suggested */
  uuid: string | null;
  untilMs: number;
}

export type HintVerdict = 'learned' | 'known' | 'self' | 'replay' | 'stale';

export interface HintOutcome {
  verdict: HintVerdict;
  /** a new address entered the set (the caller may want to tell the others soon) */
  grew: boolean;
}

const key = (a: HintAddress) => `${a.address}|${a.port}`;

export class LearnedPeers {
  private readonly entries = new Map<string, Entry>();
  /** the last seq taken from each member, in order of last use, bounded */
  private readonly seqs = new Map<string, bigint>();
  /** where this node's own hints came back from: never a destination */
  private readonly self = new Set<string>();
  /** seeds a hint came from, until when: vouched for in hints, but sent to as seeds anyway */
  private readonly seedsHeard = new Map<string, { address: HintAddress; untilMs: number }>();
  /** addresses not taken because the set was full */
  refused = 0;

  constructor(private readonly o: LearnedOptions) {}

  /** An authenticated hint from `from`; `selfUuid` is this node's UUID. */
  take(
    h: Hint,
    from: HintAddress,
    selfUuid: string,
    nowMs: number,
    wallMs: number,
    isSeed: (a: HintAddress) => boolean = () => false,
  ): HintOutcome {
    const here = key(from);
    if (h.uuid === selfUuid) {
      this.self.add(here);
      this.entries.delete(here);
      return { verdict: 'self', grew: false };
    }
    const last = this.seqs.get(h.uuid);
    if (last !== undefined && h.seq <= last) return { verdict: 'replay', grew: false };
    if (last === undefined && Math.abs(wallMs - h.sentAtMs) > this.o.replayWindowMs)
      return { verdict: 'stale', grew: false };
    this.seqs.delete(h.uuid);
    this.seqs.set(h.uuid, h.seq);
    if (this.seqs.size > 4 * this.o.max) this.seqs.delete(this.seqs.keys().next().value!);
    this.prune(nowMs);
    const until = nowMs + this.o.ttlMs;
    let grew = false;
    if (isSeed(from)) {
      // a seed takes no room in the table: it is a destination whatever the hints say
      const known = this.seedsHeard.has(here);
      this.seedsHeard.set(here, { address: { address: from.address, port: from.port }, untilMs: until });
      this.entries.delete(here);
      for (const a of h.addresses) if (this.suggest(a, until, isSeed)) grew = true;
      return { verdict: known ? 'known' : 'learned', grew };
    }
    const existing = this.entries.get(here);
    const wasKnown = existing?.uuid === h.uuid;
    // a member that moved: its old address goes at once rather than at expiry
    for (const [k, e] of this.entries) if (e.uuid === h.uuid && k !== here) this.entries.delete(k);
    if (existing) {
      existing.uuid = h.uuid;
      existing.untilMs = until;
    } else grew = this.add({ address: from.address, port: from.port, uuid: h.uuid, untilMs: until });
    for (const a of h.addresses) if (this.suggest(a, until, isSeed)) grew = true;
    return { verdict: wasKnown ? 'known' : 'learned', grew };
  }

  /** true when the address is new to the table */
  private suggest(a: HintAddress, untilMs: number, isSeed: (a: HintAddress) => boolean): boolean {
    const k = key(a);
    if (this.self.has(k) || isSeed(a)) return false;
    const e = this.entries.get(k);
    if (e) {
      if (e.uuid === null) e.untilMs = untilMs;
      return false;
    }
    return this.add({ address: a.address, port: a.port, uuid: null, untilMs });
  }

  /** every live learned address: where announces and hints go besides the seeds */
  destinations(nowMs: number): HintAddress[] {
    this.prune(nowMs);
    return [...this.entries.values()].map((e) => ({ address: e.address, port: e.port }));
  }

  /** the addresses members were heard from: what this node's hints vouch for */
  confirmed(nowMs: number): HintAddress[] {
    this.prune(nowMs);
    const out: HintAddress[] = [];
    for (const s of this.seedsHeard.values()) out.push(s.address);
    for (const e of this.entries.values())
      if (e.uuid !== null) out.push({ address: e.address, port: e.port });
    return out;
  }

  isSelf(a: HintAddress): boolean {
    return this.self.has(key(a));
  }

  get size(): number {
    return this.entries.size;
  }

  private add(e: Entry): boolean {
    if (this.entries.size >= this.o.max) {
      this.refused++;
      return false;
    }
    this.entries.set(key(e), e);
    return true;
  }

  private prune(nowMs: number): void {
    for (const [k, e] of this.entries) if (e.untilMs < nowMs) this.entries.delete(k);
    for (const [k, s] of this.seedsHeard) if (s.untilMs < nowMs) this.seedsHeard.delete(k);
  }
}
