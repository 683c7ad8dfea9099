/**
 * Figures of one run, computed online from trace records: time to first lord, failover latency,
 * overlap (two lords within one weak component), lordless time (an electable mutual component
 * without a lord) and lord changes in steady state.
 */
import { components } from './components.js';
import type { TraceRecord } from './trace.js';
import type { Simulation } from './world.js';

export interface Episode {
  startMs: number;
  endMs: number;
  nodes: string[];
}

export interface EpisodeStats {
  count: number;
  totalMs: number;
  longestMs: number;
  /** the first few, for reports */
  episodes: Episode[];
}

export interface Failover {
  kind: 'crash' | 'shutdown';
  atMs: number;
  node: string;
  /** from the fault to the next `lord` event on another node; null if none before the end */
  latencyMs: number | null;
  /** when the departing lord's death announce went out (clean shutdown only) */
  deathAtMs: number | null;
  afterDeathMs: number | null;
}

export interface MetricsReport {
  firstLordMs: number | null;
  lordEvents: number;
  failovers: Failover[];
  overlap: EpisodeStats;
  lordless: EpisodeStats;
  steady: { lordChanges: number; steadyMs: number; perHour: number };
}

const KEEP_EPISODES = 20;

/** Time during which a condition holds, in episodes (an instant alone is none). */
export class EpisodeTracker {
  readonly stats: EpisodeStats = { count: 0, totalMs: 0, longestMs: 0, episodes: [] };
  private open: { startMs: number; nodes: Set<string> } | null = null;

  update(t: number, active: boolean, nodes: string[]): void {
    if (active) {
      if (!this.open) this.open = { startMs: t, nodes: new Set() };
      for (const n of nodes) this.open.nodes.add(n);
    } else {
      this.close(t);
    }
  }

  close(t: number): void {
    const o = this.open;
    if (!o) return;
    this.open = null;
    const ms = t - o.startMs;
    if (ms <= 0) return; // handovers inside one instant are not episodes
    this.stats.count++;
    this.stats.totalMs += ms;
    this.stats.longestMs = Math.max(this.stats.longestMs, ms);
    if (this.stats.episodes.length < KEEP_EPISODES) {
      this.stats.episodes.push({ startMs: o.startMs, endMs: t, nodes: [...o.nodes].sort() });
    }
  }
}

export class Metrics<S> {
  private firstLordMs: number | null = null;
  private lordEvents = 0;
  private readonly lordEventTimes: number[] = [];
  private readonly faultTimes: number[] = [];
  private readonly failovers: Failover[] = [];
  private readonly pending: { f: Failover; slot: number }[] = [];
  private readonly overlap = new EpisodeTracker();
  private readonly lordless = new EpisodeTracker();
  private topologyDirty = true;
  private weak: Int32Array = new Int32Array(0);
  private mutual: { of: Int32Array; count: number } = { of: new Int32Array(0), count: 0 };
  private running: number[] = [];

  constructor(private readonly sim: Simulation<S>) {
    sim.afterAction.push((t) => {
      this.topologyDirty = true;
      this.evaluate(t);
    });
  }

  readonly listener = (r: TraceRecord): void => {
    switch (r.kind) {
      case 'event':
        if (r.event === 'lord') this.onLordEvent(r.t, r.slot);
        return;
      case 'fault':
        this.faultTimes.push(r.t);
        if (r.action === 'crash' || r.action === 'shutdown') {
          for (const slot of r.slots) {
            const n = this.sim.nodes[slot]!;
            if (!n.lord) continue;
            const f: Failover = {
              kind: r.action,
              atMs: r.t,
              node: n.name,
              latencyMs: null,
              deathAtMs: null,
              afterDeathMs: null,
            };
            this.failovers.push(f);
            this.pending.push({ f, slot });
          }
        }
        this.topologyDirty = true;
        return;
      case 'status':
        if (r.status === 'stopped') {
          for (const p of this.pending)
            if (p.slot === r.slot && p.f.kind === 'shutdown' && p.f.deathAtMs === null) p.f.deathAtMs = r.t;
        }
        this.topologyDirty = true;
        this.evaluate(r.t);
        return;
      case 'start':
        this.topologyDirty = true;
        this.evaluate(r.t);
        return;
      case 'claim':
        this.evaluate(r.t);
        return;
      default:
        return;
    }
  };

  private onLordEvent(t: number, slot: number): void {
    if (this.firstLordMs === null) this.firstLordMs = t;
    this.lordEvents++;
    this.lordEventTimes.push(t);
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (p.slot === slot) continue;
      p.f.latencyMs = t - p.f.atMs;
      if (p.f.deathAtMs !== null) p.f.afterDeathMs = t - p.f.deathAtMs;
      this.pending.splice(i, 1);
    }
  }

  private refreshTopology(): void {
    if (!this.topologyDirty) return;
    this.topologyDirty = false;
    this.running = this.sim.observed.nodes.filter((n) => n.status === 'up').map((n) => n.slot);
    this.weak = components(this.running, this.sim.network, 'weak').of;
    this.mutual = components(this.running, this.sim.network, 'mutual');
  }

  private evaluate(t: number): void {
    this.refreshTopology();
    const nodes = this.sim.nodes;
    const seen = this.sim.observed.nodes;
    const q = this.sim.scenario.quorum;
    // overlap: two or more lords in one weak component
    const lordsByComp = new Map<number, number[]>();
    for (const s of this.running) {
      if (!seen[s]!.lord) continue;
      const c = this.weak[s]!;
      const list = lordsByComp.get(c);
      if (list) list.push(s);
      else lordsByComp.set(c, [s]);
    }
    const overlapping: string[] = [];
    for (const list of lordsByComp.values())
      if (list.length >= 2) for (const s of list) overlapping.push(nodes[s]!.name);
    this.overlap.update(t, overlapping.length > 0, overlapping);
    // lordless: a mutual component of at least Q running nodes with a candidate, and no lord
    const size = new Int32Array(this.mutual.count);
    const hasCandidate = new Uint8Array(this.mutual.count);
    const hasLord = new Uint8Array(this.mutual.count);
    for (const s of this.running) {
      const c = this.mutual.of[s]!;
      const n = nodes[s]!;
      size[c]!++;
      if (n.valor > 0n && n.drainUntilMs <= t) hasCandidate[c] = 1;
      if (seen[s]!.lord) hasLord[c] = 1;
    }
    const lordless: string[] = [];
    for (let c = 0; c < this.mutual.count; c++) {
      if (size[c]! >= q && hasCandidate[c] && !hasLord[c]) {
        for (const s of this.running) if (this.mutual.of[s] === c) lordless.push(nodes[s]!.name);
      }
    }
    this.lordless.update(
      t,
      lordless.length > 0,
      lordless.length > 8 ? [`${lordless.length} nodes`] : lordless,
    );
  }

  finish(endMs: number): MetricsReport {
    this.overlap.close(endMs);
    this.lordless.close(endMs);
    const settle = this.sim.scenario.settleMs;
    const windows: [number, number][] = [];
    windows.push([0, this.firstLordMs === null ? endMs : this.firstLordMs + settle]);
    for (const f of this.faultTimes) windows.push([f, f + settle]);
    windows.sort((a, b) => a[0] - b[0]);
    let excluded = 0;
    let curS = -1;
    let curE = -1;
    for (const [s0, e0] of windows) {
      const s = Math.min(s0, endMs);
      const e = Math.min(e0, endMs);
      if (s > curE) {
        excluded += curE - curS;
        curS = s;
        curE = e;
      } else curE = Math.max(curE, e);
    }
    excluded += curE - curS;
    const inWindow = (t: number) => windows.some(([s, e]) => t >= s && t <= e);
    const changes = this.lordEventTimes.filter((t, i) => i > 0 && !inWindow(t)).length;
    const steadyMs = Math.max(0, endMs - excluded);
    return {
      firstLordMs: this.firstLordMs,
      lordEvents: this.lordEvents,
      failovers: this.failovers,
      overlap: this.overlap.stats,
      lordless: this.lordless.stats,
      steady: {
        lordChanges: changes,
        steadyMs,
        perHour: steadyMs > 0 ? (changes / steadyMs) * 3_600_000 : 0,
      },
    };
  }
}
