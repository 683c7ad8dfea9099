/**
 * False lord changes per simulated hour under packet loss: N = 20 nodes, the daemon's default
 * timing and quorum, no faults at all, so every lord change after the first election is false.
 */
import { runJobs } from './lib/pool.js';
import { sum } from './lib/stats.js';
import type { LossOutcome, SimJob } from './sim-jobs.js';

export interface SimLossRow {
  loss: number;
  nodes: number;
  seeds: number;
  /** steady-state simulated time summed over the seeds */
  simulatedHours: number;
  lordChanges: number;
  perHour: number;
  /** seeds with at least one false change */
  seedsWithChanges: number;
  overlapMs: number;
  /** time with an electable group and no lord, the first election included */
  lordlessMs: number;
  violations: number;
}

export interface SimLossPlan {
  nodes: number;
  losses: number[];
  seeds: number;
  durationMs: number;
}

export function simLossPlan(long: boolean): SimLossPlan {
  return long
    ? // a little over 6 minutes each, so the steady time (start-up excluded) sums to an hour
      { nodes: 20, losses: [0, 0.1, 0.2, 0.3], seeds: 10, durationMs: 366_000 }
    : { nodes: 20, losses: [0, 0.1, 0.2, 0.3], seeds: 2, durationMs: 90_000 };
}

export async function runSimLoss(
  plan: SimLossPlan,
  log: (l: string) => void = () => undefined,
): Promise<SimLossRow[]> {
  const jobs: SimJob[] = plan.losses.flatMap((loss) =>
    Array.from({ length: plan.seeds }, (_, i) => ({
      kind: 'loss' as const,
      nodes: plan.nodes,
      loss,
      durationMs: plan.durationMs,
      seed: i + 1,
    })),
  );
  const out = (await runJobs(jobs, undefined, (d, t) =>
    log(`  simulator loss runs ${d}/${t}`),
  )) as LossOutcome[];
  return plan.losses.map((loss) => {
    const rs = out.filter((o) => o.loss === loss);
    const steadyMs = sum(rs.map((r) => r.steadyMs));
    const changes = sum(rs.map((r) => r.lordChanges));
    return {
      loss,
      nodes: plan.nodes,
      seeds: rs.length,
      simulatedHours: steadyMs / 3_600_000,
      lordChanges: changes,
      perHour: steadyMs > 0 ? changes / (steadyMs / 3_600_000) : 0,
      seedsWithChanges: rs.filter((r) => r.lordChanges > 0).length,
      overlapMs: sum(rs.map((r) => r.overlapMs)),
      lordlessMs: sum(rs.map((r) => r.lordlessMs)),
      violations: sum(rs.map((r) => r.violations)),
    };
  });
}
