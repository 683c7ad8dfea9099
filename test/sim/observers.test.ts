/** Observers in the simulator: quorum safety with observers on both sides of a partition. */
import { describe, expect, it } from 'vitest';
import { Checker } from '../../sim/checker.js';
import { nativeProbe, Simulation } from '../../sim/world.js';
import { nativeMachine } from '../../src/legion/machine.js';
import { runSeeds, scenario } from './helpers.js';

describe('observers under a partition', () => {
  const sc = scenario('observers-partition');

  it('the majority counts voters only', () => {
    expect(sc.quorum).toBe(2);
    expect(sc.nodes.filter((n) => n.observer).map((n) => n.valor)).toEqual([0n, 0n]);
  });

  it('keeps one lord at most, and no observer ever claims the title, over seeds', () => {
    for (const r of runSeeds(sc, 8)) {
      expect(r.report.violations).toEqual([]);
      expect(r.report.metrics.lordEvents).toBeGreaterThan(0);
    }
  });

  it('the checker catches a core that lets observers vote (they then count as arbiters)', () => {
    const voting = {
      ...nativeMachine,
      init: (p, c) => nativeMachine.init({ ...p, observer: false }, c),
    } as typeof nativeMachine;
    const sim = new Simulation(sc, { seed: 1, machine: voting, probe: nativeProbe });
    const checker = new Checker(sim);
    sim.addListener(checker.listener);
    sim.run();
    expect(checker.violations.some((v) => v.kind === 'lease')).toBe(true);
  });
});
