import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCandidates } from '../../src/legion/peers.js';
import type { LegionEvent } from '../../src/legion/types.js';
import { Driver } from './driver.js';
import { params } from './helpers.js';

const INTERVAL = 100;

const nodeArb = fc.record({
  valor: fc.oneof(fc.bigInt({ min: 0n, max: 3n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
  startAt: fc.integer({ min: 0, max: 1000 }),
});

const legionArb = fc.integer({ min: 2, max: 7 }).chain((n) =>
  fc.record({
    nodes: fc.array(nodeArb, { minLength: n, maxLength: n }),
    uuids: fc.uniqueArray(fc.uuid(), { minLength: n, maxLength: n }),
    quorum: fc.integer({ min: 1, max: n }),
    jitter: fc.double({ min: 0, max: 0.5, noNaN: true }),
    seed: fc.integer(),
  }),
);

function lordEvents(d: Driver): LegionEvent[] {
  return [...d.nodes.values()]
    .flatMap((n) => n.events.filter((e) => e.type === 'lord'))
    .sort((a, b) => a.atMs - b.atMs);
}

describe('N nodes on a perfect network', () => {
  it('agree within two intervals of the last start on the (valor, uuid) maximum, and stay agreed', () => {
    fc.assert(
      fc.property(legionArb, ({ nodes, uuids, quorum, jitter, seed }) => {
        const d = new Driver({ seed });
        const specs = nodes.map((n, i) => ({ ...n, uuid: uuids[i]! }));
        for (const [i, s] of specs.entries()) {
          d.add(
            params({
              uuid: s.uuid,
              // names tell voters apart (a restarted node must not vote twice), so keep them unique
              name: `n${i}`,
              valor: s.valor,
              quorum,
              jitter,
              intervalMs: INTERVAL,
            }),
          );
          d.schedule(s.startAt, s.uuid, { type: 'start' });
        }
        const lastStart = Math.max(...specs.map((s) => s.startAt));
        const candidates = specs.filter((s) => s.valor > 0n);
        const expected = candidates.reduce<(typeof specs)[number] | null>(
          (best, c) => (best === null || compareCandidates(c, best) > 0 ? c : best),
          null,
        );
        const check = () => {
          expect(d.lords()).toEqual(expected ? [expected.uuid] : []);
          for (const [, lord] of d.views()) expect(lord).toBe(expected?.uuid ?? null);
        };
        d.runUntil(lastStart + 2 * INTERVAL);
        check();
        const settledLordEvents = lordEvents(d).length;
        d.runUntil(lastStart + 30 * INTERVAL);
        check();
        // Nothing changed after agreement, and epochs grew at every change of lord.
        const lords = lordEvents(d);
        expect(lords.length).toBe(settledLordEvents);
        for (let i = 1; i < lords.length; i++) expect(lords[i]!.epoch).toBeGreaterThan(lords[i - 1]!.epoch);
        // Every node reached quorum exactly once iff someone can be elected.
        for (const n of d.nodes.values()) {
          expect(n.events.filter((e) => e.type === 'join').length).toBe(expected ? 1 : 0);
        }
      }),
      { numRuns: 150 },
    );
  });

  it('with only arbiters, nobody becomes lord', () => {
    const d = new Driver();
    for (let i = 0; i < 4; i++) {
      const uuid = `00000000-0000-4000-8000-00000000000${i}`;
      d.add(params({ uuid, valor: 0n }));
      d.schedule(i * 30, uuid, { type: 'start' });
    }
    d.runUntil(5000);
    expect(d.lords()).toEqual([]);
    expect([...d.views().values()]).toEqual([null, null, null, null]);
    expect(d.sent.length).toBeGreaterThan(4 * 40);
  });
});
