/**
 * The uWSGI-compatible core (protocol: uwsgi) in the simulator: the same runner, the real uWSGI
 * codec, and its own scenarios (unanimity under loss; a partition and its heal).
 */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/run.js';
import { parseScenario } from '../../sim/scenario.js';
import { lordsAt, lordsDuring, runSeeds, scenario, slotOf, violationsText } from './helpers.js';

describe('protocol uwsgi', () => {
  it('under 20% loss members flap (no attestations), yet the lord keeps the title: unanimity holds it', () => {
    const sc = scenario('uwsgi-loss');
    for (const r of runSeeds(sc, 2)) {
      expect(violationsText([r])).toBe('');
      expect(r.report.protocol).toBe('uwsgi');
      expect(r.report.metrics.lordEvents).toBe(1);
      expect(lordsAt(r.trace, sc.durationMs - 1)).toEqual([slotOf(sc, 'n5')]);
      // receivers time members out when a few announces in a row are lost
      expect(r.trace.filter((x) => x.kind === 'event' && x.event === 'node-left').length).toBeGreaterThan(50);
      expect(r.report.stats.counters['drop:ERR_REPLAY'] ?? 0).toBe(0);
    }
  });

  it('a lord cut off in a minority unlords, the majority elects, and the best takes the title back at the heal', () => {
    const sc = scenario('uwsgi-partition');
    const n3 = slotOf(sc, 'n3');
    const n5 = slotOf(sc, 'n5');
    for (const r of runSeeds(sc, 5)) {
      expect(violationsText([r])).toBe('');
      expect(lordsAt(r.trace, 9_000)).toEqual([n5]);
      // the minority's lord is gone once its members expire; the majority's best holds the title
      expect(lordsDuring(r.trace, 12_000, 19_999)).toEqual(new Set([n3]));
      expect(lordsAt(r.trace, 25_000)).toEqual([n5]);
      // uWSGI has no hand-over: at most one short overlap, at the heal
      expect(r.report.metrics.overlap.count).toBeLessThanOrEqual(1);
      expect(r.report.metrics.overlap.longestMs).toBeLessThan(500);
    }
  });

  it('runs the library scenarios too, deterministically', () => {
    const sc = { ...scenario('lord-crash'), protocol: 'uwsgi' as const };
    const a = runScenario(sc, { seed: 4 }).report;
    const b = runScenario(sc, { seed: 4 }).report;
    expect(b.traceHash).toBe(a.traceHash);
    expect(a.violationCount).toBe(0);
    expect(a.metrics.failovers).toHaveLength(1);
    expect(a.metrics.failovers[0]!.latencyMs!).toBeLessThan(sc.timing.toleranceMs + 2 * sc.timing.intervalMs);
  });

  it('refuses folded heartbeats, which the uWSGI core cannot take', () => {
    expect(() =>
      parseScenario('protocol: uwsgi\nheartbeats: folded\nnodes: [{ name: a }]', 'x.yaml'),
    ).toThrow(/heartbeats: folded heartbeats need the native protocol/);
    expect(() => runScenario(scenario('uwsgi-loss'), { seed: 1, heartbeats: 'folded' })).toThrow(
      /heartbeats in bulk/,
    );
  });
});
