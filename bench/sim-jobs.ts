/**
 * Simulator jobs for the benches: each builds a scenario, runs one seed of the real election core
 * and codec on the simulated network (sim/run.ts) and returns plain figures, so a job can run in
 * a worker process.
 */
import { runScenario } from '../sim/run.js';
import { scenarioFromObject } from '../sim/scenario.js';

export interface TimingSpec {
  intervalMs: number;
  toleranceMs: number;
}

export type SimJob =
  | { kind: 'loss'; nodes: number; loss: number; durationMs: number; seed: number }
  | { kind: 'failover'; timing: TimingSpec; faults: number; seed: number };

export interface LossOutcome {
  kind: 'loss';
  loss: number;
  seed: number;
  lordChanges: number;
  steadyMs: number;
  overlapMs: number;
  lordlessMs: number;
  violations: number;
}

export interface FailoverOutcome {
  kind: 'failover';
  timing: TimingSpec;
  seed: number;
  crashMs: number[];
  shutdownMs: number[];
  missed: number;
  violations: number;
}

export type SimOutcome = LossOutcome | FailoverOutcome;

const ms = (v: number) => `${Math.round(v)}ms`;

function lossScenario(j: Extract<SimJob, { kind: 'loss' }>) {
  return scenarioFromObject(
    {
      name: `loss-${Math.round(j.loss * 100)}-n${j.nodes}`,
      duration: ms(j.durationMs),
      // no timing key: the daemon's defaults (250 ms / 1 s, jitter 0.2), quorum 1 as by default
      network: { loss: j.loss },
      nodes: Array.from({ length: j.nodes }, (_, i) => ({ name: `n${i + 1}`, valor: (i + 1) * 10 })),
    },
    'bench-loss',
  );
}

/** Alternating crash and clean shutdown of the lord, which comes back later with the same valor. */
function failoverScenario(j: Extract<SimJob, { kind: 'failover' }>) {
  const { intervalMs: iv, toleranceMs: tol } = j.timing;
  const restartAfter = tol + 4 * iv;
  // the fault, its failover, the return (and preemption) of the old lord, and quiet time
  const period = 2 * tol + 12 * iv + restartAfter;
  const first = 6 * iv + 1000;
  const timeline = Array.from({ length: j.faults }, (_, k) => ({
    at: ms(first + k * period),
    [k % 2 === 0 ? 'crash' : 'shutdown']: { node: 'lord', restart_after: ms(restartAfter) },
  }));
  return scenarioFromObject(
    {
      name: `failover-${iv}-${tol}`,
      duration: ms(first + j.faults * period),
      timing: { interval: ms(iv), tolerance: ms(tol) },
      nodes: [
        { name: 'a', valor: 30 },
        { name: 'b', valor: 20 },
        { name: 'c', valor: 10 },
      ],
      timeline,
    },
    'bench-failover',
  );
}

export function runSimJob(j: SimJob): SimOutcome {
  if (j.kind === 'loss') {
    const r = runScenario(lossScenario(j), { seed: j.seed }).report;
    return {
      kind: 'loss',
      loss: j.loss,
      seed: j.seed,
      lordChanges: r.metrics.steady.lordChanges,
      steadyMs: r.metrics.steady.steadyMs,
      overlapMs: r.metrics.overlap.totalMs,
      lordlessMs: r.metrics.lordless.totalMs,
      violations: r.violationCount,
    };
  }
  const r = runScenario(failoverScenario(j), { seed: j.seed }).report;
  const lat = (k: 'crash' | 'shutdown') =>
    r.metrics.failovers.filter((f) => f.kind === k && f.latencyMs !== null).map((f) => f.latencyMs!);
  return {
    kind: 'failover',
    timing: j.timing,
    seed: j.seed,
    crashMs: lat('crash'),
    shutdownMs: lat('shutdown'),
    missed: r.metrics.failovers.filter((f) => f.latencyMs === null).length,
    violations: r.violationCount,
  };
}
