/** Partitions of several shapes, with and without a majority quorum, over many seeds. */
import { describe, expect, it } from 'vitest';
import type { RunResult } from '../../sim/run.js';
import type { Scenario } from '../../sim/scenario-types.js';
import {
  instants,
  lordEvents,
  lordsAt,
  lordsDuring,
  runSeeds,
  scenario,
  slotOf,
  violationsText,
} from './helpers.js';

const SEEDS = 20;
const CUT = 10_000;
const HEAL = 30_000;

function slots(sc: Scenario, names: string[]): number[] {
  return names.map((n) => slotOf(sc, n));
}

/** After settling, every overlap episode must have started within `settle` of a fault. */
function overlapsOnlyWhileSettling(sc: Scenario, r: RunResult): void {
  const faults = r.trace.filter((x) => x.kind === 'fault').map((x) => x.t);
  for (const e of r.report.metrics.overlap.episodes) {
    const near = faults.some((f) => e.startMs >= f && e.startMs <= f + sc.settleMs);
    expect(near, `seed ${r.report.seed}: overlap ${e.startMs}..${e.endMs} ${e.nodes}`).toBe(true);
    expect(e.endMs - e.startMs, `seed ${r.report.seed}`).toBeLessThan(sc.settleMs);
  }
}

describe('lord on the minority side, majority quorum', () => {
  const sc = scenario('partition-minority');
  const results = runSeeds(sc, SEEDS);
  const minority = slots(sc, ['n1', 'n5']);
  const majority = slots(sc, ['n2', 'n3', 'n4']);

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('the minority has no lord once the lease ran out; the majority has exactly one', () => {
    for (const r of results) {
      const during = lordsDuring(r.trace, CUT + sc.timing.toleranceMs + 1, HEAL);
      for (const s of minority) expect(during.has(s), `seed ${r.report.seed}`).toBe(false);
      for (const t of instants(CUT + sc.settleMs, HEAL)) {
        const lords = lordsAt(r.trace, t);
        expect(lords, `seed ${r.report.seed} at ${t}`).toHaveLength(1);
        expect(majority).toContain(lords[0]);
      }
    }
  });

  it('no two lords in one component, ever (the sides cannot hear each other)', () => {
    for (const r of results) expect(r.report.metrics.overlap.count, `seed ${r.report.seed}`).toBe(0);
  });

  it('one lord again after the heal, with an epoch above every earlier one', () => {
    for (const r of results) {
      for (const t of instants(HEAL + sc.settleMs, sc.durationMs))
        expect(lordsAt(r.trace, t)).toHaveLength(1);
      const ev = lordEvents(r.trace);
      for (let i = 1; i < ev.length; i++) expect(ev[i]!.epoch > ev[i - 1]!.epoch).toBe(true);
    }
  });
});

describe('the same split without quorum (quorum 1)', () => {
  const sc = scenario('partition-minority-noquorum');
  const results = runSeeds(sc, SEEDS);
  const minority = slots(sc, ['n1', 'n5']);

  it('keeps every invariant that holds without quorum', () => expect(violationsText(results)).toBe(''));

  it('each side has its own lord while split (what quorum 1 means), one after the heal', () => {
    for (const r of results) {
      for (const t of instants(CUT + sc.settleMs, HEAL)) {
        const lords = lordsAt(r.trace, t);
        expect(lords, `seed ${r.report.seed} at ${t}`).toHaveLength(2);
        expect(lords.filter((s) => minority.includes(s))).toHaveLength(1);
      }
      for (const t of instants(HEAL + sc.settleMs, sc.durationMs))
        expect(lordsAt(r.trace, t)).toHaveLength(1);
      overlapsOnlyWhileSettling(sc, r);
    }
  });
});

describe('two followers cut off, majority quorum', () => {
  const sc = scenario('partition-majority');
  const results = runSeeds(sc, SEEDS);

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('the lord keeps its title, the minority never claims it', () => {
    const n5 = slotOf(sc, 'n5');
    for (const r of results) {
      expect(
        lordEvents(r.trace).map((e) => e.slot),
        `seed ${r.report.seed}`,
      ).toEqual([n5]);
      const during = lordsDuring(r.trace, CUT, sc.durationMs);
      expect([...during]).toEqual([n5]);
      expect(r.report.metrics.overlap.count).toBe(0);
      // only the start-up wait is lordless: the minority is too small to count
      expect(r.report.metrics.lordless.count).toBe(1);
    }
  });
});

describe('asymmetric: nobody hears the lord, the lord hears everyone', () => {
  const sc = scenario('asymmetric');
  const results = runSeeds(sc, SEEDS);
  const n5 = slotOf(sc, 'n5');

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('the deaf side elects a new lord and the old one loses its lease; one lord after settling', () => {
    for (const r of results) {
      expect(lordsDuring(r.trace, CUT + sc.settleMs, HEAL).has(n5), `seed ${r.report.seed}`).toBe(false);
      for (const t of instants(CUT + sc.settleMs, sc.durationMs)) {
        if (t >= HEAL && t < HEAL + sc.settleMs) continue;
        expect(lordsAt(r.trace, t), `seed ${r.report.seed} at ${t}`).toHaveLength(1);
      }
      overlapsOnlyWhileSettling(sc, r);
    }
  });
});

describe('bridge: a–b and b–c work, a–c cut', () => {
  const sc = scenario('bridge');
  const results = runSeeds(sc, SEEDS);

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('with a majority quorum there is never more than one lord', () => {
    for (const r of results) {
      for (const t of instants(0, sc.durationMs, 25))
        expect(lordsAt(r.trace, t).length).toBeLessThanOrEqual(1);
      expect(r.report.metrics.overlap.count).toBe(0);
    }
  });

  it('the bridge node b votes for a, so a stays lord through the cut', () => {
    const a = slotOf(sc, 'a');
    for (const r of results)
      expect(
        lordEvents(r.trace).map((e) => e.slot),
        `seed ${r.report.seed}`,
      ).toEqual([a]);
  });

  it('even without quorum only a is lord: b attests a to c, so c still sees a as alive and best', () => {
    const q1 = runSeeds({ ...sc, quorum: 1 }, 5);
    expect(violationsText(q1)).toBe('');
    const a = slotOf(sc, 'a');
    for (const r of q1) {
      for (const t of instants(sc.settleMs, sc.durationMs, 25))
        expect(lordsAt(r.trace, t), `seed ${r.report.seed}`).toEqual([a]);
    }
  });
});

describe('ring of majorities', () => {
  const sc = scenario('ring');
  const results = runSeeds(sc, SEEDS);

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('exactly one lord after settling, never two', () => {
    for (const r of results) {
      for (const t of instants(sc.settleMs, sc.durationMs))
        expect(lordsAt(r.trace, t), `seed ${r.report.seed} at ${t}`).toHaveLength(1);
      expect(r.report.metrics.overlap.count).toBe(0);
    }
  });
});
