/**
 * The simulated network between node slots (positions that survive restarts). Links are
 * directed: a partition is just a set of blocked (from, to) pairs, so one-way faults, bridges and
 * rings are as easy to express as a clean split.
 */
import type { Prng } from './prng.js';
import type { LinkParams } from './scenario-types.js';

export class Network {
  readonly size: number;
  private defaults: LinkParams;
  /** per directed link overrides, index from * size + to */
  private readonly overrides = new Map<number, LinkParams>();
  private readonly blocked: Uint8Array;
  private blockedCount = 0;

  constructor(size: number, defaults: LinkParams) {
    this.size = size;
    this.defaults = { ...defaults };
    this.blocked = new Uint8Array(size * size);
  }

  get partitioned(): boolean {
    return this.blockedCount > 0;
  }

  isBlocked(from: number, to: number): boolean {
    return this.blocked[from * this.size + to] === 1;
  }

  block(from: number, to: number): void {
    const i = from * this.size + to;
    if (from === to || this.blocked[i] === 1) return;
    this.blocked[i] = 1;
    this.blockedCount++;
  }

  heal(): void {
    this.blocked.fill(0);
    this.blockedCount = 0;
  }

  /** the directed links currently blocked, for reports and pictures */
  blockedLinks(): [number, number][] {
    const out: [number, number][] = [];
    if (this.blockedCount === 0) return out;
    for (let i = 0; i < this.blocked.length; i++) {
      if (this.blocked[i] === 1) out.push([Math.floor(i / this.size), i % this.size]);
    }
    return out;
  }

  /** change link parameters everywhere (no from/to) or on the links from → to */
  setLink(patch: Partial<LinkParams>, from: number[] | null, to: number[] | null): void {
    if (from === null && to === null) {
      this.defaults = { ...this.defaults, ...patch };
      for (const [k, v] of this.overrides) this.overrides.set(k, { ...v, ...patch });
      return;
    }
    const all = Array.from({ length: this.size }, (_, i) => i);
    for (const f of from ?? all) {
      for (const t of to ?? all) {
        if (f === t) continue;
        const k = f * this.size + t;
        this.overrides.set(k, { ...(this.overrides.get(k) ?? this.defaults), ...patch });
      }
    }
  }

  link(from: number, to: number): LinkParams {
    return this.overrides.size === 0
      ? this.defaults
      : (this.overrides.get(from * this.size + to) ?? this.defaults);
  }

  /** the slowest a packet can be on any link, for timing slack */
  maxLatencyMs(): number {
    let m = this.defaults.delayMs + this.defaults.jitterMs;
    for (const p of this.overrides.values()) m = Math.max(m, p.delayMs + p.jitterMs);
    return m;
  }

  /** the fastest a packet can be on any link: nothing sent now arrives sooner */
  minLatencyMs(): number {
    let m = this.defaults.delayMs;
    for (const p of this.overrides.values()) m = Math.min(m, p.delayMs);
    return m;
  }

  get defaultLink(): LinkParams {
    return this.defaults;
  }

  /**
   * Delivery delays for one packet on one link: none when blocked or lost, two when duplicated.
   * Loss is drawn per copy, as a real network loses copies independently.
   */
  delays(from: number, to: number, rng: Prng, out: number[]): void {
    out.length = 0;
    if (this.blockedCount > 0 && this.blocked[from * this.size + to] === 1) return;
    const p = this.link(from, to);
    const copies = p.dup > 0 && rng.chance(p.dup) ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      if (p.loss > 0 && rng.chance(p.loss)) continue;
      out.push(p.delayMs + (p.jitterMs > 0 ? rng.float() * p.jitterMs : 0));
    }
  }
}

/** Directed links to block for each partition shape; slots not named in `groups` form one more group. */
export function groupsLinks(groups: number[][], size: number): [number, number][] {
  const groupOf = new Int32Array(size).fill(-1);
  groups.forEach((g, gi) => {
    for (const s of g) groupOf[s] = gi;
  });
  for (let s = 0; s < size; s++) if (groupOf[s] === -1) groupOf[s] = groups.length;
  const out: [number, number][] = [];
  for (let a = 0; a < size; a++) {
    for (let b = 0; b < size; b++) if (groupOf[a] !== groupOf[b]) out.push([a, b]);
  }
  return out;
}

export function oneWayLinks(from: number[], to: number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const f of from) for (const t of to) if (f !== t) out.push([f, t]);
  return out;
}

export function cutLinks(pairs: [number, number][]): [number, number][] {
  return pairs.flatMap(([a, b]) => [
    [a, b],
    [b, a],
  ]) as [number, number][];
}

/** Ring of majorities: slot i hears only slots within `reach` steps around the ring. */
export function ringLinks(size: number, reach: number): [number, number][] {
  const out: [number, number][] = [];
  for (let a = 0; a < size; a++) {
    for (let b = 0; b < size; b++) {
      const d = Math.abs(a - b);
      if (a !== b && Math.min(d, size - d) > reach) out.push([a, b]);
    }
  }
  return out;
}
