/**
 * Scenarios in which the core once broke an invariant (found by the property test, now fixed):
 * they assert the correct behaviour so the bugs stay fixed. See each scenario's header.
 */
import { describe, expect, it } from 'vitest';
import { lordEvents, lordsDuring, runSeeds, scenario, slotOf, violationsText } from './helpers.js';

describe('epoch-reuse-after-pause', () => {
  const sc = scenario('epoch-reuse-after-pause');
  const results = runSeeds(sc, 8);

  it('no two lord events share an epoch (the epoch is a fencing token)', () => {
    for (const r of results) {
      const epochs = lordEvents(r.trace).map((e) => e.epoch);
      expect(new Set(epochs).size, `seed ${r.report.seed}: lord epochs ${epochs.join(', ')}`).toBe(
        epochs.length,
      );
    }
  });

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));
});

describe('restart-ghost-vote', () => {
  const sc = scenario('restart-ghost-vote');
  const results = runSeeds(sc, 8);

  it('a minority never has a lord, even while one of its nodes restarts', () => {
    const minority = [slotOf(sc, 'n4'), slotOf(sc, 'n5')];
    for (const r of results) {
      const during = lordsDuring(r.trace, 5_000 + sc.timing.toleranceMs + 1, sc.durationMs);
      expect(
        [...during].filter((s) => minority.includes(s)),
        `seed ${r.report.seed}`,
      ).toEqual([]);
    }
  });

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));
});
