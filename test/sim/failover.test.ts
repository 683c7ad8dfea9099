/** Lord crash and clean shutdown over many seeds, with failover bounds in virtual time. */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../sim/run.js';
import { lordEvents, lordsAt, runSeeds, runSeedsAsync, scenario, slotOf, violationsText } from './helpers.js';

const SEEDS = 20;

describe('lord crash', () => {
  const sc = scenario('lord-crash');
  const results = runSeeds(sc, SEEDS);
  const bound = sc.timing.toleranceMs + 2 * sc.timing.intervalMs;

  it('keeps every invariant', () => {
    expect(violationsText(results)).toBe('');
  });

  it(`fails over within tolerance + 2 intervals (${bound} ms)`, () => {
    for (const r of results) {
      const f = r.report.metrics.failovers;
      expect(f, `seed ${r.report.seed}`).toHaveLength(1);
      expect(f[0]!.kind).toBe('crash');
      expect(f[0]!.latencyMs, `seed ${r.report.seed}`).not.toBeNull();
      expect(f[0]!.latencyMs!, `seed ${r.report.seed}`).toBeLessThanOrEqual(bound);
      // and not before the crashed lord could have been declared dead
      expect(f[0]!.latencyMs!, `seed ${r.report.seed}`).toBeGreaterThan(
        sc.timing.toleranceMs - sc.timing.intervalMs,
      );
    }
  });

  it('never has two lords at once (majority quorum)', () => {
    for (const r of results) expect(r.report.metrics.overlap.count, `seed ${r.report.seed}`).toBe(0);
  });

  it('the restarted best node takes over again with a higher epoch', () => {
    for (const r of results) {
      const ev = lordEvents(r.trace);
      const last = ev[ev.length - 1]!;
      expect(last.slot).toBe(slotOf(sc, 'n5'));
      expect(last.t).toBeGreaterThan(20_000);
      expect(ev.map((e) => e.epoch)).toEqual([...ev.map((e) => e.epoch)].sort((a, b) => (a < b ? -1 : 1)));
    }
  });
});

describe('lord clean shutdown', () => {
  const sc = scenario('lord-shutdown');
  const results = runSeeds(sc, SEEDS);
  const hop = sc.network.delayMs + sc.network.jitterMs;

  it('keeps every invariant', () => {
    expect(violationsText(results)).toBe('');
  });

  it('elects the next lord on receipt of the death announce, not at a tick', () => {
    // A quorum needs a few hops (death announce to the voters, their votes to the successor, its
    // epoch proposal acknowledged); each hop is one network delay. Epsilon: 10 ms, far below
    // one announce interval, so no tick or timeout can be involved.
    for (const r of results) {
      const f = r.report.metrics.failovers[0]!;
      expect(f.kind).toBe('shutdown');
      expect(f.deathAtMs, `seed ${r.report.seed}`).toBe(f.atMs); // no hooks to wait for
      expect(f.afterDeathMs!, `seed ${r.report.seed}`).toBeLessThanOrEqual(hop + 10);
    }
  });

  it('with quorum 1 the successor needs only the death announce itself: one hop', () => {
    const q1 = runSeeds({ ...sc, quorum: 1 }, SEEDS);
    expect(violationsText(q1)).toBe('');
    for (const r of q1) {
      const f = r.report.metrics.failovers[0]!;
      expect(f.afterDeathMs!, `seed ${r.report.seed}`).toBeLessThanOrEqual(hop + 1);
    }
  });

  it('the departing lord runs unlord before death, and nobody else was lord meanwhile', () => {
    const n5 = slotOf(sc, 'n5');
    for (const r of results) {
      const mine = r.trace.filter(
        (x) => x.kind === 'event' && x.slot === n5 && x.t >= 10_000 && x.t < 20_000,
      );
      expect(
        mine
          .map((x) => (x.kind === 'event' ? x.event : ''))
          .filter((e) => e !== 'node-left' && e !== 'node-joined'),
      ).toEqual(['unlord', 'lord-changed', 'death']);
      expect(lordsAt(r.trace, 10_000)).toEqual([]);
    }
  });
});

describe('lord clean shutdown with slow hooks', () => {
  const sc = scenario('lord-shutdown-slow-hooks');
  let results: RunResult[] = [];
  beforeAll(async () => {
    results = await runSeedsAsync(sc, SEEDS);
  });

  it('keeps every invariant', () => {
    expect(violationsText(results)).toBe('');
  });

  it('no successor before the old lord finished its unlord hook', () => {
    for (const r of results) {
      const f = r.report.metrics.failovers[0]!;
      const unlordDone = r.trace.find(
        (x) => x.kind === 'proc' && x.work === 'hook-unlord' && x.op === 'exit' && x.t >= 10_000,
      );
      expect(unlordDone, `seed ${r.report.seed}`).toBeDefined();
      expect(unlordDone!.t).toBe(10_000 + 2_000);
      expect(f.deathAtMs).toBe(unlordDone!.t);
      expect(f.atMs + f.latencyMs!).toBeGreaterThanOrEqual(unlordDone!.t);
      expect(r.report.metrics.overlap.count).toBe(0);
    }
  });
});
