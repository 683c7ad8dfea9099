/**
 * Lease safety: a lord counts only votes it heard directly within its lease (at most
 * `tolerance`). So at any moment it can hold at most 1 + |{nodes whose packets could reach it at
 * some point during the last tolerance}| votes — plus slack for packets in flight, one interval
 * and tick rounding. A lord that stays on while that bound is below Q holds the title without a
 * quorum: a split brain the design rules out. The bound follows from the network model alone,
 * so the check raises no false alarms (it may miss subtler cases).
 */
import type { Violation } from './checker.js';
import type { TraceRecord } from './trace.js';
import type { Simulation } from './world.js';

export class LeaseCheck<S> {
  private readonly n: number;
  /** [voter * n + lord]: last time the voter was running with an open link to the lord */
  private readonly lastOpen: Float64Array;
  /** [voter * n + lord] as of the last topology change */
  private readonly open: Uint8Array;
  private readonly lordSince: (number | null)[];
  /** per slot: the moment its possible votes fall below Q (Infinity when they do not) */
  private readonly deadline: Float64Array;
  private maxLatencyMs: number;

  constructor(
    private readonly sim: Simulation<S>,
    private readonly report: (v: Violation) => void,
  ) {
    this.n = sim.nodes.length;
    this.lastOpen = new Float64Array(this.n * this.n).fill(Number.NEGATIVE_INFINITY);
    this.open = new Uint8Array(this.n * this.n);
    this.lordSince = new Array<number | null>(this.n).fill(null);
    this.deadline = new Float64Array(this.n).fill(Number.POSITIVE_INFINITY);
    this.maxLatencyMs = sim.network.maxLatencyMs();
    sim.afterAction.push((t) => this.relink(t));
  }

  private get windowMs(): number {
    return this.sim.scenario.timing.toleranceMs + this.sim.scenario.timing.intervalMs + this.maxLatencyMs + 2;
  }

  readonly listener = (r: TraceRecord): void => {
    if (r.kind === 'claim') {
      if (r.lord) {
        if (this.lordSince[r.slot] === null) {
          this.lordSince[r.slot] = r.t;
          this.deadline[r.slot] = this.deadlineOf(r.slot);
        }
      } else {
        this.close(r.slot, r.t);
        this.lordSince[r.slot] = null;
      }
    } else if (r.kind === 'status' || r.kind === 'start') {
      // A frozen lord acts on nothing; it is judged again from the moment it wakes (and must
      // check its lease before anything else then).
      if (r.kind === 'status' && r.status === 'paused') {
        this.close(r.slot, r.t);
        this.lordSince[r.slot] = null;
      } else if (r.kind === 'status' && r.status === 'up' && this.sim.observed.nodes[r.slot]!.lord) {
        this.lordSince[r.slot] = r.t;
      }
      this.relink(r.t, r.slot);
    }
  };

  /**
   * Records when links stop being usable. Called right after a change is applied: with `slot`,
   * only that node's links changed (it started, stopped, paused or woke); without, the network did.
   */
  private relink(t: number, slot?: number): void {
    const { n } = this;
    const net = this.sim.network;
    this.maxLatencyMs = Math.max(this.maxLatencyMs, net.maxLatencyMs());
    // judge the time up to now with the deadlines as they were
    for (let x = 0; x < n; x++) this.close(x, t);
    if (slot === undefined) {
      for (let v = 0; v < n; v++) for (let x = 0; x < n; x++) this.setLink(t, v, x);
    } else {
      for (let o = 0; o < n; o++) {
        this.setLink(t, slot, o);
        this.setLink(t, o, slot);
      }
    }
    for (let x = 0; x < n; x++) if (this.lordSince[x] !== null) this.deadline[x] = this.deadlineOf(x);
  }

  private setLink(t: number, v: number, x: number): void {
    const i = v * this.n + x;
    if (this.open[i] === 1) this.lastOpen[i] = t;
    const net = this.sim.network;
    this.open[i] =
      v !== x && this.sim.observed.nodes[v]!.status === 'up' && !(net.partitioned && net.isBlocked(v, x))
        ? 1
        : 0;
  }

  /** When the lord's possible fresh votes (itself plus recent voters) drop below Q. */
  private deadlineOf(x: number): number {
    const { n, open, lastOpen } = this;
    const need = this.sim.scenario.quorum - 1;
    let openNow = 0;
    const closed: number[] = [];
    for (let v = 0; v < n; v++) {
      // an observer's announces reach the lord but can never be a vote for it
      if (v === x || this.sim.nodes[v]!.observer) continue;
      const i = v * n + x;
      if (open[i] === 1) openNow++;
      else if (lastOpen[i]! > Number.NEGATIVE_INFINITY) closed.push(lastOpen[i]!);
    }
    const k = need - openNow;
    if (k <= 0) return Number.POSITIVE_INFINITY;
    if (closed.length < k) return Number.NEGATIVE_INFINITY;
    closed.sort((a, b) => b - a);
    return closed[k - 1]! + this.windowMs;
  }

  /** Reports the part of the lordship, up to t, that lies past the deadline. */
  private close(slot: number, t: number): void {
    const since = this.lordSince[slot] ?? null;
    if (since === null) return;
    const from = Math.max(since, this.deadline[slot]!);
    if (t <= from) return;
    const name = this.sim.nodes[slot]!.name;
    this.report({
      atMs: from,
      kind: 'lease',
      node: name,
      text: `${name} lord for ${(t - from).toFixed(1)} ms while fewer than ${this.sim.scenario.quorum} nodes could have voted for it within the last ${this.windowMs.toFixed(0)} ms`,
    });
    this.lordSince[slot] = t; // report each stretch once
  }

  finish(t: number): void {
    for (let s = 0; s < this.n; s++) this.close(s, t);
  }
}
