/** Shared helpers for simulation tests: load scenarios, run them over seeds, query lordship in a trace. */
import { join } from 'node:path';
import { type RunOptions, type RunResult, runScenario, runScenarioAsync } from '../../sim/run.js';
import { loadScenario } from '../../sim/scenario.js';
import type { Scenario } from '../../sim/scenario-types.js';
import type { TraceRecord } from '../../sim/trace.js';

export const SCENARIOS = join(import.meta.dirname, '..', '..', 'sim', 'scenarios');

export function scenario(name: string, patch: (s: Scenario) => Scenario = (s) => s): Scenario {
  return patch(loadScenario(join(SCENARIOS, `${name}.yaml`)));
}

export function runSeeds(sc: Scenario, seeds: number, first = 1): RunResult[] {
  const out: RunResult[] = [];
  for (let seed = first; seed < first + seeds; seed++) out.push(runScenario(sc, { seed, keepTrace: true }));
  return out;
}

/** runSeeds for any scenario (lord-only work included: its promises settle between events) */
export async function runSeedsAsync(
  sc: Scenario,
  seeds: number,
  first = 1,
  o: Omit<RunOptions, 'seed'> = {},
): Promise<RunResult[]> {
  const out: RunResult[] = [];
  for (let seed = first; seed < first + seeds; seed++)
    out.push(await runScenarioAsync(sc, { seed, keepTrace: true, ...o }));
  return out;
}

export function slotOf(sc: Scenario, name: string): number {
  const i = sc.nodes.findIndex((n) => n.name === name);
  if (i < 0) throw new Error(`no node ${name}`);
  return i;
}

/** Lordship intervals per slot, from claim records: [start, end) with end = Infinity while held. */
export function lordIntervals(
  trace: TraceRecord[],
): { slot: number; epoch: bigint; from: number; to: number }[] {
  const open = new Map<number, { epoch: bigint; from: number }>();
  const out: { slot: number; epoch: bigint; from: number; to: number }[] = [];
  for (const r of trace) {
    if (r.kind !== 'claim') continue;
    const o = open.get(r.slot);
    if (o) {
      out.push({ slot: r.slot, epoch: o.epoch, from: o.from, to: r.t });
      open.delete(r.slot);
    }
    if (r.lord) open.set(r.slot, { epoch: r.epoch, from: r.t });
  }
  for (const [slot, o] of open)
    out.push({ slot, epoch: o.epoch, from: o.from, to: Number.POSITIVE_INFINITY });
  return out;
}

/** Slots claiming lordship at any moment within [from, to]. */
export function lordsDuring(trace: TraceRecord[], from: number, to: number): Set<number> {
  const s = new Set<number>();
  for (const i of lordIntervals(trace)) if (i.from <= to && i.to > from && i.to > i.from) s.add(i.slot);
  return s;
}

/** Slots claiming lordship at instant t (after every record at t). */
export function lordsAt(trace: TraceRecord[], t: number): number[] {
  return lordIntervals(trace)
    .filter((i) => i.from <= t && i.to > t)
    .map((i) => i.slot);
}

export function lordEvents(trace: TraceRecord[]): Extract<TraceRecord, { kind: 'event' }>[] {
  return trace.filter(
    (r): r is Extract<TraceRecord, { kind: 'event' }> => r.kind === 'event' && r.event === 'lord',
  );
}

/** Sample instants in [from, to) every `step` ms. */
export function instants(from: number, to: number, step = 50): number[] {
  const out: number[] = [];
  for (let t = from; t < to; t += step) out.push(t);
  return out;
}

export function violationsText(results: RunResult[]): string {
  return results
    .filter((r) => r.report.violationCount > 0)
    .map(
      (r) =>
        `seed ${r.report.seed}: ${r.report.violations.map((v) => `${v.atMs.toFixed(1)}ms ${v.kind} ${v.text}`).join('; ')}`,
    )
    .join('\n');
}
