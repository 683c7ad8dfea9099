/** One scenario run with checker and metrics attached: the entry point the CLI, tests and benches share. */
import type { Effect } from '../src/legion/types.js';
import { Checker, type Violation } from './checker.js';
import { Metrics, type MetricsReport } from './metrics.js';
import type { HeartbeatMode, ProtocolName, Scenario } from './scenario-types.js';
import type { VirtualOptions } from './spawner.js';
import type { TraceRecord } from './trace.js';
import type { WorkReport } from './work-checker.js';
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
  /** how the virtual processes' guards behave; default by the guard contract */
  processes?: VirtualOptions;
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
  /** lord-only work across the legion (work-checker.ts) */
  work: WorkReport;
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

/**
 * One run, to its end. Only for runs without lord-only work (no hooks, cron or daemons): those
 * need runScenarioAsync, and this one throws for them.
 */
export function runScenario(scenario: Scenario, o: RunOptions): RunResult {
  const run = prepare(scenario, o);
  run.sim.run();
  return run.finish();
}

/** One run, to its end, whatever it runs: the hook code's promises settle between events. */
export async function runScenarioAsync(scenario: Scenario, o: RunOptions): Promise<RunResult> {
  const run = prepare(scenario, o);
  await run.sim.runAsync();
  return run.finish();
}

function prepare(scenario: Scenario, o: RunOptions): { sim: Simulation; finish: () => RunResult } {
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
    ...(o.processes ? { processes: o.processes } : {}),
  });
  const metrics = new Metrics(sim);
  const checker = new Checker(sim);
  sim.addListener(metrics.listener);
  sim.addListener(checker.listener);
  const finish = (): RunResult => {
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
      work: checker.work.report(),
      violationCount: checker.violationCount,
      violations: checker.violations,
      noteCount: checker.noteCount,
      notes: checker.notes,
      stats: sim.stats(),
    };
    return { report, trace, incarnations, sim };
  };
  return { sim, finish };
}
