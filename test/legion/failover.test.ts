import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Driver } from './driver.js';
import { params, uuidOf } from './helpers.js';

const INTERVAL = 100;
const TOLERANCE = 400;

/** Four nodes, uuid i has valor i (node 4 is the best), started together and settled. */
function settled(opts: { quorum?: number; hooksMs?: number; seed?: number; jitter?: number } = {}): Driver {
  const d = new Driver({ seed: opts.seed ?? 1, hooksMs: opts.hooksMs ?? 0 });
  for (let i = 1; i <= 4; i++) {
    d.add(
      params({
        uuid: uuidOf(i),
        valor: BigInt(i),
        quorum: opts.quorum ?? 1,
        jitter: opts.jitter ?? 0.2,
        intervalMs: INTERVAL,
        toleranceMs: TOLERANCE,
      }),
    );
    d.schedule(0, uuidOf(i), { type: 'start' });
  }
  d.runUntil(1000);
  expect(d.lords()).toEqual([uuidOf(4)]);
  return d;
}

function lordEventsAfter(d: Driver, uuid: string, t: number) {
  return d.nodes.get(uuid)!.events.filter((e) => e.type === 'lord' && e.atMs >= t);
}

describe('failover on a perfect network', () => {
  it('lord crash: the next best is lord within tolerance + interval', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer(),
        (offset, quorum, seed) => {
          const d = settled({ quorum, seed, jitter: 0.5 });
          d.runUntil(1000 + offset);
          const crashAt = d.now;
          d.crash(uuidOf(4));
          d.runUntil(crashAt + TOLERANCE + INTERVAL);
          expect(d.lords()).toEqual([uuidOf(3)]);
          const ev = lordEventsAfter(d, uuidOf(3), crashAt);
          expect(ev).toHaveLength(1);
          expect(ev[0]!.atMs).toBeLessThanOrEqual(crashAt + TOLERANCE + INTERVAL);
          // Its fencing token is above the crashed lord's.
          const old = d.nodes
            .get(uuidOf(4))!
            .events.filter((e) => e.type === 'lord')
            .at(-1)!;
          expect(ev[0]!.epoch).toBeGreaterThan(old.epoch);
          for (const [, lord] of d.views()) expect(lord).toBe(uuidOf(3));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('lord shutdown: no successor before the death announce, and one at the instant it lands', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2000 }), fc.integer({ min: 1, max: 3 }), (hooksMs, quorum) => {
        const d = settled({ quorum, hooksMs });
        const t0 = d.now;
        d.input(uuidOf(4), { type: 'command', command: { type: 'shutdown' } });
        // The old lord's unlord hooks run; peers must not elect anyone meanwhile.
        d.runUntil(t0 + hooksMs - 1);
        for (let i = 1; i <= 3; i++) expect(lordEventsAfter(d, uuidOf(i), t0)).toHaveLength(0);
        d.runUntil(t0 + hooksMs);
        const death = d.sent.find((s) => s.from === uuidOf(4) && s.packet.flags.dead);
        expect(death?.at).toBe(t0 + hooksMs);
        expect(d.nodes.get(uuidOf(4))!.state.phase).toBe('dead');
        expect(d.lords()).toEqual([uuidOf(3)]);
        const ev = lordEventsAfter(d, uuidOf(3), t0);
        expect(ev.map((e) => e.atMs)).toEqual([t0 + hooksMs]);
        const oldEvents = d.nodes.get(uuidOf(4))!.events.map((e) => e.type);
        // its own view of the lord changes too (to none) as it releases
        expect(oldEvents.slice(-3)).toEqual(['unlord', 'lord-changed', 'death']);
      }),
      { numRuns: 40 },
    );
  });

  it('lord stepdown: the successor waits for the old lord hooks, and the old lord returns after the period', () => {
    const d = settled({ hooksMs: 300 });
    const t0 = d.now;
    d.input(uuidOf(4), { type: 'command', command: { type: 'stepdown', forMs: 2000 } });
    d.runUntil(t0 + 299);
    expect(lordEventsAfter(d, uuidOf(3), t0)).toHaveLength(0);
    d.runUntil(t0 + 300);
    expect(d.lords()).toEqual([uuidOf(3)]);
    // back from the period, 4 is best again: 3 releases (its hooks take 300 ms) before 4 takes over
    d.runUntil(t0 + 2000 + INTERVAL);
    expect(d.lords()).toEqual([]);
    d.runUntil(t0 + 2000 + 2 * INTERVAL + 300);
    expect(d.lords()).toEqual([uuidOf(4)]);
  });
});
