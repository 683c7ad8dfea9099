/** One scenario run with checker and metrics attached: the entry point the CLI, tests and benches share. */
import type { Effect } from '../src/legion/types.js';
import { Checker, type Violation } from './checker.js';
import { Metrics, type MetricsReport } from './metrics.js';
import type { HeartbeatMode, ProtocolName, Scenario } from './scenario-types.js';
import type { TraceRecord } from './trace.js';
import { type SimStats, Simulation } from './world.js';

export interface RunOptions {
  seed: number;
  secure?: boolean;
  /** overrides the scenario's `heartbeats` */
  heartbeats?: HeartbeatMode;
  /** overrides the scenario's `windowed` */
  windowed?: boolean;
  /** keep every trace record in memory (timelines, pictures, tests) */
  keepTrace?: boolean;
  /** record whom each node considers lord (pictures); a view per step */
  trackViews?: boolean;
  onRecord?: (r: TraceRecord) => void;
  onLog?: (t: number, slot: number, e: Extract<Effect, { type: 'log' }>) => void;
}

export interface RunReport {
  scenario: string;
  seed: number;
  nodes: number;
  quorum: number;
  durationMs: number;
  protocol: ProtocolName;
  secure: boolean;
  heartbeats: HeartbeatMode;
  traceHash: string;
  records: number;
  metrics: MetricsReport;
  violationCount: number;
  violations: Violation[];
  noteCount: number;
  notes: Violation[];
  stats: SimStats;
}

export interface NodeLabel {
  slot: number;
  name: string;
  uuid: string;
  /** `n3`, then `n3.2` after the first restart */
  label: string;
  startMs: number;
}

export interface RunResult {
  report: RunReport;
  trace: TraceRecord[];
  /** every incarnation of every slot, in start order */
  incarnations: NodeLabel[];
  sim: Simulation;
}

export function runScenario(scenario: Scenario, o: RunOptions): RunResult {
  const trace: TraceRecord[] = [];
  const incarnations: NodeLabel[] = [];
  const perSlot = new Map<number, number>();
  const listeners: ((r: TraceRecord) => void)[] = [
    (r) => {
      if (r.kind !== 'start') return;
      const k = (perSlot.get(r.slot) ?? 0) + 1;
      perSlot.set(r.slot, k);
      const name = scenario.nodes[r.slot]!.name;
      incarnations.push({
        slot: r.slot,
        name,
        uuid: r.uuid,
        label: k === 1 ? name : `${name}.${k}`,
        startMs: r.t,
      });
    },
  ];
  if (o.keepTrace) listeners.push((r) => trace.push(r));
  if (o.onRecord) listeners.push(o.onRecord);
  const sim = new Simulation(scenario, {
    seed: o.seed,
    trackViews: o.trackViews ?? false,
    listeners,
    ...(o.secure !== undefined ? { secure: o.secure } : {}),
    ...(o.heartbeats !== undefined ? { heartbeats: o.heartbeats } : {}),
    ...(o.windowed !== undefined ? { windowed: o.windowed } : {}),
    ...(o.onLog ? { onLog: o.onLog } : {}),
  });
  const metrics = new Metrics(sim);
  const checker = new Checker(sim);
  sim.addListener(metrics.listener);
  sim.addListener(checker.listener);
  sim.run();
  checker.finish(sim.now);
  const report: RunReport = {
    scenario: scenario.name,
    seed: o.seed,
    nodes: scenario.nodes.length,
    quorum: scenario.quorum,
    durationMs: scenario.durationMs,
    protocol: sim.protocol.name,
    // uWSGI always encrypts
    secure: sim.protocol.name === 'uwsgi' || (o.secure ?? scenario.secure),
    heartbeats: o.heartbeats ?? scenario.heartbeats,
    traceHash: sim.hasher.digest(),
    records: sim.hasher.count,
    metrics: metrics.finish(sim.now),
    violationCount: checker.violationCount,
    violations: checker.violations,
    noteCount: checker.noteCount,
    notes: checker.notes,
    stats: sim.stats(),
  };
  return { report, trace, incarnations, sim };
}
