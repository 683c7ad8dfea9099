/** A paused lord, sustained packet loss, and an arbiter breaking a two-node tie, over many seeds. */
import { describe, expect, it } from 'vitest';
import { instants, lordEvents, lordsAt, runSeeds, scenario, slotOf, violationsText } from './helpers.js';

describe('paused lord', () => {
  const sc = scenario('paused-lord');
  const results = runSeeds(sc, 20);
  const n5 = slotOf(sc, 'n5');
  const resumeAt = 13_000;

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('on waking it gives up the title before it reads a single queued packet: never two lords', () => {
    for (const r of results) {
      expect(r.report.metrics.overlap.count, `seed ${r.report.seed}`).toBe(0);
      const i = r.trace.findIndex((x) => x.kind === 'status' && x.slot === n5 && x.status === 'up');
      const after = r.trace.slice(i + 1);
      // the first thing the woken node does is to drop its stale lordship
      const firstOwn = after.find((x) => 'slot' in x && x.slot === n5 && x.kind !== 'proc');
      expect(firstOwn, `seed ${r.report.seed}`).toMatchObject({
        kind: 'event',
        event: 'unlord',
        reason: 'lease',
        t: resumeAt,
      });
      // (while frozen its state still says lord, but a frozen process acts on nothing)
      for (const t of instants(resumeAt, sc.durationMs, 10))
        expect(lordsAt(r.trace, t).length).toBeLessThanOrEqual(1);
    }
  });

  it('a successor was elected during the pause', () => {
    for (const r of results) {
      const during = lordEvents(r.trace).filter((e) => e.t > 10_000 && e.t < resumeAt);
      expect(during.length, `seed ${r.report.seed}`).toBe(1);
      expect(during[0]!.slot).not.toBe(n5);
    }
  });

  it('with quorum 1 the woken lord may keep the title, but never shares an epoch with the successor', () => {
    const q1 = runSeeds({ ...sc, quorum: 1 }, 10);
    expect(violationsText(q1)).toBe('');
    for (const r of q1) {
      for (const t of instants(resumeAt + sc.settleMs, sc.durationMs))
        expect(lordsAt(r.trace, t)).toHaveLength(1);
    }
  });
});

describe('30% packet loss with default timing', () => {
  // ten virtual minutes per seed; a lord change would be a false failover
  const sc = scenario('loss-30', (s) => ({ ...s, durationMs: 5 * 60_000 }));
  const results = runSeeds(sc, 8);

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('elects once and never changes lord', () => {
    const changes = results.map((r) => r.report.metrics.steady.lordChanges);
    expect(changes).toEqual(results.map(() => 0));
    for (const r of results) {
      expect(r.report.metrics.lordEvents, `seed ${r.report.seed}`).toBe(1);
      expect(r.report.metrics.lordless.count).toBe(1);
    }
  });

  it('really lost about 30% of the packets', () => {
    for (const r of results) {
      const sent = r.report.stats.counters.sent ?? 0;
      const ratio = r.report.stats.deliveries / (sent * (sc.nodes.length - 1));
      expect(ratio).toBeGreaterThan(0.65);
      expect(ratio).toBeLessThan(0.75);
    }
  });
});

describe('arbiter breaking a two-node tie', () => {
  const sc = scenario('arbiter-tiebreak');
  const results = runSeeds(sc, 20);
  const alpha = slotOf(sc, 'alpha');
  const beta = slotOf(sc, 'beta');
  const arbiter = slotOf(sc, 'arbiter');

  it('keeps every invariant', () => expect(violationsText(results)).toBe(''));

  it('while the two real nodes cannot talk, the arbiter keeps alpha lord and beta out', () => {
    for (const r of results) {
      for (const t of instants(sc.settleMs, 30_000, 25))
        expect(lordsAt(r.trace, t), `seed ${r.report.seed} at ${t}`).toEqual([alpha]);
    }
  });

  it('when alpha dies, beta wins with the arbiter vote; the arbiter is never lord', () => {
    const bound = sc.timing.toleranceMs + 2 * sc.timing.intervalMs;
    for (const r of results) {
      const f = r.report.metrics.failovers;
      expect(f).toHaveLength(1);
      expect(f[0]!.latencyMs!, `seed ${r.report.seed}`).toBeLessThanOrEqual(bound);
      expect(lordEvents(r.trace).some((e) => e.slot === beta && e.t > 30_000)).toBe(true);
      expect(lordEvents(r.trace).some((e) => e.slot === arbiter)).toBe(false);
      expect(r.report.metrics.overlap.count).toBe(0);
    }
  });

  it('without the arbiter (quorum 2 of 2) a cut leaves both real nodes lordless', () => {
    const pair = { ...sc, nodes: sc.nodes.filter((n) => n.name !== 'arbiter'), quorum: 2 };
    for (const r of runSeeds(pair, 5)) {
      expect(violationsText([r])).toBe('');
      for (const t of instants(10_000 + sc.settleMs, 20_000)) expect(lordsAt(r.trace, t)).toEqual([]);
    }
  });
});
