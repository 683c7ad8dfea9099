/**
 * Folded heartbeats (sim/heartbeats.ts): the bookkeeping of who still needs what in full, and
 * runs of the scenario library showing that folding keeps what the full packet path finds.
 */
import { describe, expect, it } from 'vitest';
import { HeartbeatFolder } from '../../sim/heartbeats.js';
import { Network } from '../../sim/network.js';
import { runScenario } from '../../sim/run.js';
import { DEFAULT_NETWORK } from '../../sim/scenario-types.js';
import { announce, uuidOf } from '../legion/helpers.js';
import { scenario, slotOf, violationsText } from './helpers.js';

function folder(size = 3) {
  // no link delay: a heartbeat counts from the instant it is sent
  const net = new Network(size, { ...DEFAULT_NETWORK, delayMs: 0 });
  const f = new HeartbeatFolder(size, net);
  for (let s = 0; s < size; s++) f.started(s, uuidOf(s));
  return { f, net };
}

describe('HeartbeatFolder', () => {
  it('a repeat is a heartbeat only once its sender announced something in full', () => {
    const { f } = folder();
    const a = announce(uuidOf(0), { vote: uuidOf(0) });
    expect(f.isHeartbeat(0, a)).toBe(false);
    f.news(0, a);
    const later = announce(uuidOf(0), { vote: uuidOf(0), seen: [{ uuid: uuidOf(1), agoMs: 3 }] });
    expect(f.isHeartbeat(0, later)).toBe(true);
    expect(f.isHeartbeat(0, { ...a, vote: uuidOf(1) })).toBe(false);
    expect(f.isHeartbeat(0, { ...a, flags: { ...a.flags, dead: true } })).toBe(false);
  });

  it('a receiver gets heartbeats only after taking in the current announce, and loses them when it forgets', () => {
    const { f } = folder();
    const a = announce(uuidOf(0));
    f.news(0, a);
    f.beat(0, 10);
    expect(f.anyReachable(0)).toBe(true);
    expect(f.heardBy(1, 20)(uuidOf(0), 0)).toBe(Number.NEGATIVE_INFINITY);
    f.delivered(0, uuidOf(0), 1, a);
    f.delivered(0, uuidOf(0), 2, { ...a, vote: uuidOf(2) }); // not the current announce
    expect(f.needsFull(0, 1)).toBe(false);
    expect(f.needsFull(0, 2)).toBe(true);
    expect(f.heardBy(1, 20)(uuidOf(0), 0)).toBe(10);
    f.forgot(1, uuidOf(0));
    expect(f.needsFull(0, 1)).toBe(true);
    f.delivered(0, uuidOf(0), 1, a);
    f.delivered(0, uuidOf(0), 2, a);
    f.beat(0, 30);
    expect(f.anyReachable(0)).toBe(false);
  });

  it('a heartbeat still in flight does not count, and a blocked link stops them', () => {
    const { f, net } = folder();
    const a = announce(uuidOf(0));
    f.news(0, a);
    f.delivered(0, uuidOf(0), 1, a);
    f.beat(0, 10);
    f.beat(0, 20);
    expect(f.heardBy(1, 15)(uuidOf(0), 0)).toBe(10);
    expect(f.heardBy(1, 20)(uuidOf(0), 0)).toBe(20);
    net.block(0, 1);
    expect(f.heardBy(1, 25)(uuidOf(0), 0)).toBe(Number.NEGATIVE_INFINITY);
    // a receiver that needs the announce in full but sits across the partition cannot get it
    f.forgot(1, uuidOf(0));
    f.delivered(0, uuidOf(0), 2, a);
    expect(f.needsFull(0, 1)).toBe(true);
    expect(f.anyReachable(0)).toBe(false);
  });

  it('a heartbeat counts from its arrival over the current default link', () => {
    const { f, net } = folder();
    const a = announce(uuidOf(0));
    f.news(0, a);
    f.delivered(0, uuidOf(0), 1, a);
    f.beat(0, 10);
    net.setLink({ delayMs: 5 }, null, null); // a `network` fault slows every link
    f.beat(0, 20);
    expect(f.heardBy(1, 24)(uuidOf(0), 0)).toBe(10);
    expect(f.heardBy(1, 25)(uuidOf(0), 0)).toBe(25);
  });

  it('a position in the table that now holds someone else is looked up again', () => {
    const { f } = folder();
    for (const s of [0, 2]) {
      const a = announce(uuidOf(s));
      f.news(s, a);
      f.delivered(s, uuidOf(s), 1, a);
    }
    f.beat(0, 10);
    f.beat(2, 20);
    expect(f.heardBy(1, 30)(uuidOf(0), 0)).toBe(10);
    // the same position after a leave and a join
    expect(f.heardBy(1, 30)(uuidOf(2), 0)).toBe(20);
    expect(f.heardBy(1, 30)(uuidOf(0), 0)).toBe(10);
  });

  it('a restarted slot is news to everyone, and a former identity is heard no more', () => {
    const { f } = folder();
    const a = announce(uuidOf(0));
    f.news(0, a);
    f.delivered(0, uuidOf(0), 1, a);
    f.beat(0, 10);
    f.started(0, uuidOf(9));
    expect(f.heardBy(1, 20)(uuidOf(0), 0)).toBe(Number.NEGATIVE_INFINITY);
    expect(f.needsFull(1, 0)).toBe(true);
    expect(f.isHeartbeat(0, announce(uuidOf(9)))).toBe(false);
  });

  it('a slot whose process is gone needs nothing, whatever news comes, until it starts again', () => {
    const { f } = folder();
    f.stopped(2);
    f.news(0, announce(uuidOf(0)));
    expect(f.needsFull(0, 2)).toBe(false);
    expect(f.needsFull(0, 1)).toBe(true);
    f.started(2, uuidOf(7));
    expect(f.needsFull(0, 2)).toBe(true);
  });
});

const LIBRARY = [
  'lord-crash',
  'lord-shutdown',
  'partition-minority',
  'paused-lord',
  'asymmetric',
  'arbiter-tiebreak',
];

describe('folded runs of the scenario library', () => {
  it.each(LIBRARY)('%s: no violation, and the same lord changes as with every packet', (name) => {
    const sc = scenario(name);
    for (const seed of [1, 2, 3, 4]) {
      const full = runScenario(sc, { seed });
      const folded = runScenario(sc, { seed, heartbeats: 'folded' });
      expect(violationsText([folded])).toBe('');
      expect(folded.report.heartbeats).toBe('folded');
      expect(folded.report.metrics.lordEvents).toBe(full.report.metrics.lordEvents);
      expect(folded.report.metrics.overlap.count).toBe(full.report.metrics.overlap.count);
      // the point of folding: most announces never become packets
      expect(folded.report.stats.deliveries * 3).toBeLessThan(full.report.stats.deliveries);
      expect(folded.report.stats.counters.folded).toBeGreaterThan(0);
    }
  });

  it('a crashed lord is still found out by silence: a tolerance after its last heartbeat', () => {
    const sc = scenario('lord-crash');
    for (const seed of [1, 2, 3, 4, 5]) {
      const r = runScenario(sc, { seed, heartbeats: 'folded' });
      const f = r.report.metrics.failovers.filter((x) => x.kind === 'crash');
      expect(f.length).toBe(1);
      expect(f[0]!.latencyMs).not.toBeNull();
      // its last heartbeat went out at most an interval before the crash
      expect(f[0]!.latencyMs!).toBeGreaterThan(sc.timing.toleranceMs - sc.timing.intervalMs);
      expect(f[0]!.latencyMs!).toBeLessThan(sc.timing.toleranceMs + 2 * sc.timing.intervalMs);
    }
  });

  it('a partition stops heartbeats: the majority drops the cut-off nodes, and takes them back after the heal', () => {
    const sc = scenario('partition-minority');
    const r = runScenario(sc, { seed: 3, heartbeats: 'folded', keepTrace: true });
    const cut = new Set([slotOf(sc, 'n5'), slotOf(sc, 'n1')]);
    const uuidsCut = new Set(r.incarnations.filter((i) => cut.has(i.slot)).map((i) => i.uuid));
    const atMajority = r.trace.filter(
      (x): x is Extract<typeof x, { kind: 'event' }> =>
        x.kind === 'event' && !cut.has(x.slot) && x.member !== null && uuidsCut.has(x.member),
    );
    const left = atMajority.filter((x) => x.event === 'node-left' && x.t > 10_000 && x.t < 30_000);
    const back = atMajority.filter((x) => x.event === 'node-joined' && x.t > 30_000);
    expect(left.length).toBe(3 * 2);
    const silentFrom = 10_000 - sc.timing.intervalMs - sc.network.delayMs - sc.network.jitterMs;
    expect(left.every((x) => x.reason === 'timeout' && x.t > silentFrom + sc.timing.toleranceMs)).toBe(true);
    expect(back.length).toBe(3 * 2);
  });

  it('news lost on a bad network still gets through, carried by later heartbeats in full', () => {
    const sc = scenario('loss-30', (s) => ({
      ...s,
      durationMs: 60_000,
      network: { ...s.network, loss: 0.5 },
    }));
    for (const seed of [1, 2, 3]) {
      const r = runScenario(sc, { seed, heartbeats: 'folded', trackViews: true });
      expect(violationsText([r])).toBe('');
      const lords = r.sim.nodes.filter((n) => n.lord);
      expect(lords.length).toBe(1);
      // every node ends up knowing who it is
      expect(r.sim.nodes.every((n) => n.viewLord === lords[0]!.uuid)).toBe(true);
      expect(r.report.stats.counters.folded).toBeGreaterThan(0);
    }
  });

  it('the same seed gives the same folded run', () => {
    const sc = scenario('tour');
    const a = runScenario(sc, { seed: 5, heartbeats: 'folded' }).report.traceHash;
    const b = runScenario(sc, { seed: 5, heartbeats: 'folded' }).report.traceHash;
    const c = runScenario(sc, { seed: 6, heartbeats: 'folded' }).report.traceHash;
    expect(a).toBe(b);
    expect(c).not.toBe(a);
  });
});
