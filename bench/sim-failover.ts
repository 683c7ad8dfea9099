/**
 * The simulator's failover latency for the legiond timing profiles of the real benchmark: three
 * nodes, the lord alternately crashes and shuts down cleanly, many seeds. Latency is from the
 * fault to the next lord event, i.e. the decision: simulated hooks start at once.
 */
import { runJobs } from './lib/pool.js';
import { type Summary, summarize } from './lib/stats.js';
import type { FailoverOutcome, SimJob, TimingSpec } from './sim-jobs.js';

export interface SimFailoverRow {
  profile: string;
  timing: TimingSpec;
  crash: Summary | null;
  shutdown: Summary | null;
  missed: number;
  violations: number;
  seeds: number;
}

export interface SimFailoverProfile {
  profile: string;
  timing: TimingSpec;
  seeds: number;
  faults: number;
}

export async function runSimFailover(
  profiles: SimFailoverProfile[],
  log: (l: string) => void = () => undefined,
): Promise<SimFailoverRow[]> {
  const jobs: SimJob[] = profiles.flatMap((p) =>
    Array.from({ length: p.seeds }, (_, i) => ({
      kind: 'failover' as const,
      timing: p.timing,
      faults: p.faults,
      seed: i + 1,
    })),
  );
  const out = (await runJobs(jobs, undefined, (d, t) =>
    d === t || d % 10 === 0 ? log(`  simulator failover runs ${d}/${t}`) : undefined,
  )) as FailoverOutcome[];
  return profiles.map((p) => {
    const rs = out.filter(
      (o) => o.timing.intervalMs === p.timing.intervalMs && o.timing.toleranceMs === p.timing.toleranceMs,
    );
    return {
      profile: p.profile,
      timing: p.timing,
      crash: summarize(rs.flatMap((r) => r.crashMs)),
      shutdown: summarize(rs.flatMap((r) => r.shutdownMs)),
      missed: rs.reduce((a, r) => a + r.missed, 0),
      violations: rs.reduce((a, r) => a + r.violations, 0),
      seeds: rs.length,
    };
  });
}

/** One simulator profile per legiond failover profile (same ids), with enough faults for a distribution. */
export function simFailoverProfiles(
  legiond: { id: string; intervalMs: number; toleranceMs: number }[],
  long: boolean,
): SimFailoverProfile[] {
  return legiond.map((p) => {
    const slow = p.toleranceMs >= 10_000;
    return {
      profile: p.id,
      timing: { intervalMs: p.intervalMs, toleranceMs: p.toleranceMs },
      seeds: long ? 50 : slow ? 3 : 10,
      faults: slow ? 6 : 10,
    };
  });
}
