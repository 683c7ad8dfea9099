/**
 * Windowed scheduling (sim/window.ts): node by node within windows shorter than the fastest link.
 * It must find what strict event order finds, give observers records in time order, and stay
 * reproducible.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/run.js';
import { mergeRuns } from '../../sim/window.js';
import { scenario, violationsText } from './helpers.js';

describe('mergeRuns', () => {
  it('gives what a stable sort by time gives, for runs each in time order', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.integer({ min: 0, max: 20 }), { maxLength: 12 }), { maxLength: 8 }),
        (runs) => {
          const items: { t: number; id: number }[] = [];
          const starts: number[] = [];
          let id = 0;
          for (const run of runs) {
            starts.push(items.length);
            for (const t of [...run].sort((a, b) => a - b)) items.push({ t, id: id++ });
          }
          const expected = [...items].sort((a, b) => a.t - b.t).map((x) => x.id);
          expect(mergeRuns(items, starts).map((x) => x.id)).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});

const LIBRARY = ['lord-crash', 'lord-shutdown', 'partition-minority', 'paused-lord', 'bridge', 'ring'];

describe('windowed runs of the scenario library', () => {
  it.each(LIBRARY)('%s: no violation, and the same lord changes and overlaps as in strict order', (name) => {
    const sc = scenario(name);
    for (const seed of [1, 2, 3]) {
      for (const heartbeats of ['full', 'folded'] as const) {
        const strict = runScenario(sc, { seed, heartbeats });
        const win = runScenario(sc, { seed, heartbeats, windowed: true, keepTrace: true });
        expect(violationsText([win])).toBe('');
        expect(win.report.metrics.lordEvents).toBe(strict.report.metrics.lordEvents);
        expect(win.report.metrics.overlap.count).toBe(strict.report.metrics.overlap.count);
        // observers get records in time order although nodes ran one after another
        const times = win.trace.map((r) => r.t);
        expect(times.every((t, i) => i === 0 || t >= times[i - 1]!)).toBe(true);
      }
    }
  });

  it('a minority partition without quorum still shows its overlap episode', () => {
    const sc = scenario('partition-minority-noquorum');
    const r = runScenario(sc, { seed: 2, windowed: true });
    expect(r.report.metrics.overlap.count).toBeGreaterThan(0);
  });

  it('the same seed gives the same windowed run, and another seed another', () => {
    const sc = scenario('tour');
    const a = runScenario(sc, { seed: 3, windowed: true }).report.traceHash;
    const b = runScenario(sc, { seed: 3, windowed: true }).report.traceHash;
    const c = runScenario(sc, { seed: 4, windowed: true }).report.traceHash;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});
