/**
 * The last hour of each legion, for the status page: lord changes, joins, leaves and hook runs,
 * in a bounded ring per legion (by age and by count), with ids that let a reconnecting page ask
 * for what it missed. What falls out of a ring is folded into a small "before" record (the lord
 * and the members present at the start of what is kept), so the picture of the hour stays right.
 */

export type HistoryBody =
  | { kind: 'lord-changed'; lord: { uuid: string; name: string } | null; epoch: string; reason?: string }
  | { kind: 'node-joined' | 'node-left'; member: { uuid: string; name: string }; reason?: string }
  | { kind: 'join'; epoch: string }
  | {
      kind: 'hook';
      event: string;
      outcome: 'ok' | 'failed' | 'timeout';
      durationMs: number;
      exitCode: number | null;
    };

export type HistoryEntry = HistoryBody & {
  /** increases across every legion of the process */
  seq: number;
  /** wall-clock ms */
  at: number;
  legion: string;
};

/** what the evicted entries of a legion leave behind */
export interface Before {
  /** undefined: no lord change was ever evicted (the ring holds the whole story) */
  lord?: { uuid: string; name: string } | null;
  /** the epoch that lord change named */
  lordEpoch?: string;
  /** members present when the oldest kept entry happened, as far as evicted joins tell */
  present: Map<string, string>;
}

export const HISTORY_WINDOW_MS = 3_600_000;
export const HISTORY_CAPACITY = 2000;

/** a fixed-size circular buffer: push evicts the oldest when full */
export class Ring<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError('ring capacity must be >= 1');
    this.items = new Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** returns the evicted item, if one was */
  push(v: T): T | undefined {
    let evicted: T | undefined;
    if (this.count === this.capacity) evicted = this.shift();
    this.items[(this.head + this.count) % this.capacity] = v;
    this.count++;
    return evicted;
  }

  peek(): T | undefined {
    return this.count === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.count === 0) return undefined;
    const v = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return v;
  }

  toArray(): T[] {
    const out: T[] = [];
    for (let i = 0; i < this.count; i++) out.push(this.items[(this.head + i) % this.capacity] as T);
    return out;
  }
}

export interface HistoryOptions {
  windowMs?: number;
  /** entries kept per legion */
  capacity?: number;
  /** wall-clock ms; default Date.now */
  now?: () => number;
}

export class History {
  readonly windowMs: number;
  private readonly capacity: number;
  private readonly now: () => number;
  private readonly rings = new Map<string, { ring: Ring<HistoryEntry>; before: Before }>();
  private seq = 0;
  /** the highest seq that was evicted or forgotten: a reader behind it has missed something */
  private lost = 0;

  constructor(o: HistoryOptions = {}) {
    this.windowMs = o.windowMs ?? HISTORY_WINDOW_MS;
    this.capacity = o.capacity ?? HISTORY_CAPACITY;
    this.now = o.now ?? Date.now;
  }

  get lastSeq(): number {
    return this.seq;
  }

  record(legion: string, body: HistoryBody): HistoryEntry {
    const r = this.ringOf(legion);
    const entry = { ...body, seq: ++this.seq, at: this.now(), legion } as HistoryEntry;
    const evicted = r.ring.push(entry);
    if (evicted) this.evicted(r.before, evicted);
    this.prune(legion);
    return entry;
  }

  /** the kept entries of one legion, oldest first, after dropping what is older than the window */
  entries(legion: string): HistoryEntry[] {
    this.prune(legion);
    return this.rings.get(legion)?.ring.toArray() ?? [];
  }

  before(legion: string): Before {
    this.prune(legion);
    return this.rings.get(legion)?.before ?? { present: new Map() };
  }

  /**
   * Every kept entry after `seq`, in order, for a reader that saw up to `seq`; `complete` is
   * false when entries after it were dropped, so the reader knows its own record has a hole.
   */
  since(seq: number): { entries: HistoryEntry[]; complete: boolean } {
    const all: HistoryEntry[] = [];
    for (const legion of this.rings.keys())
      for (const e of this.entries(legion)) if (e.seq > seq) all.push(e);
    all.sort((a, b) => a.seq - b.seq);
    return { entries: all, complete: seq >= this.lost && seq <= this.seq };
  }

  legions(): string[] {
    return [...this.rings.keys()];
  }

  /** a legion left: its history goes with it */
  forget(legion: string): void {
    const r = this.rings.get(legion);
    if (!r) return;
    for (const e of r.ring.toArray()) this.lost = Math.max(this.lost, e.seq);
    this.rings.delete(legion);
  }

  private ringOf(legion: string) {
    let r = this.rings.get(legion);
    if (!r) {
      r = { ring: new Ring<HistoryEntry>(this.capacity), before: { present: new Map() } };
      this.rings.set(legion, r);
    }
    return r;
  }

  private prune(legion: string): void {
    const r = this.rings.get(legion);
    if (!r) return;
    const oldest = this.now() - this.windowMs;
    for (let e = r.ring.peek(); e !== undefined && e.at < oldest; e = r.ring.peek()) {
      r.ring.shift();
      this.evicted(r.before, e);
    }
  }

  private evicted(b: Before, e: HistoryEntry): void {
    this.lost = Math.max(this.lost, e.seq);
    if (e.kind === 'lord-changed') {
      b.lord = e.lord;
      b.lordEpoch = e.epoch;
    }
    // only members still present are worth remembering, so this stays as small as the membership
    else if (e.kind === 'node-joined') b.present.set(e.member.uuid, e.member.name);
    else if (e.kind === 'node-left') b.present.delete(e.member.uuid);
  }
}
