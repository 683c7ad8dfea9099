import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cluster, params } from './harness.js';

const INTERVAL = 250;

const clusterArb = fc.record({
  nodes: fc.uniqueArray(
    fc.record({
      uuid: fc.uuid(),
      // small range so equal valors (UUID tie-breaks) and arbiters both happen
      valor: fc.bigInt({ min: 0n, max: 4n }),
      startAt: fc.integer({ min: 0, max: 3 * INTERVAL }),
    }),
    { minLength: 2, maxLength: 5, selector: (n) => n.uuid },
  ),
  jitter: fc.constantFrom(0, 0.1, 0.3),
  seed: fc.integer(),
});

type ClusterSpec = typeof clusterArb extends fc.Arbitrary<infer T> ? T : never;

function build(c: ClusterSpec): Cluster {
  return new Cluster(
    c.nodes.map((n, i) => ({
      p: params({
        uuid: n.uuid,
        name: `n${i}`,
        valor: n.valor,
        intervalMs: INTERVAL,
        toleranceMs: 4 * INTERVAL,
        jitter: c.jitter,
      }),
      startAt: n.startAt,
    })),
    c.seed,
  );
}

function best(nodes: Array<{ uuid: string; valor: bigint }>) {
  return nodes
    .filter((n) => n.valor > 0n)
    .reduce<{ uuid: string; valor: bigint } | null>(
      (x, y) => (x === null || y.valor > x.valor || (y.valor === x.valor && y.uuid > x.uuid) ? y : x),
      null,
    );
}

describe('uwsgiMachine on a perfect network', () => {
  it('2-5 nodes agree on the maximum (valor, uuid) and exactly it holds the title', () => {
    fc.assert(
      fc.property(clusterArb, (c) => {
        const cluster = build(c);
        cluster.run(3 * INTERVAL + 12 * INTERVAL);
        const want = best(c.nodes);
        const views = cluster.nodes.map((n) => n.driver.view());
        for (const v of views) {
          expect(v.members).toHaveLength(c.nodes.length);
          if (want !== null) {
            expect(v.quorumMet).toBe(true);
            expect(v.lord?.uuid).toBe(want.uuid);
          }
        }
        const lords = views.filter((v) => v.self.lord).map((v) => v.self.uuid);
        expect(lords).toEqual(want === null ? [] : [want.uuid]);
        // no node was ever lord that is not the best (it might be briefly, alone at start-up:
        // then it must have unlorded since)
        for (const n of cluster.nodes) {
          const lordEvents = n.events.filter((e) => e.type === 'lord').length;
          const unlordEvents = n.events.filter((e) => e.type === 'unlord').length;
          expect(lordEvents - unlordEvents).toBe(n.driver.view().self.lord ? 1 : 0);
        }
      }),
      { numRuns: 60 },
    );
  });

  it('after the lord crashes, the survivors elect the next best within tolerance + a few intervals', () => {
    fc.assert(
      fc.property(
        clusterArb.filter((c) => c.nodes.filter((n) => n.valor > 0n).length >= 2),
        (c) => {
          const cluster = build(c);
          cluster.run(15 * INTERVAL);
          const first = best(c.nodes)!;
          const i = c.nodes.findIndex((n) => n.uuid === first.uuid);
          cluster.crash(i);
          const survivors = c.nodes.filter((n) => n.uuid !== first.uuid);
          cluster.run(15 * INTERVAL + 4 * INTERVAL + 3 * INTERVAL);
          const next = best(survivors)!;
          for (const n of cluster.nodes.filter((x) => x.alive)) {
            const v = n.driver.view();
            expect(v.lord?.uuid).toBe(next.uuid);
            expect(v.members).toHaveLength(survivors.length);
            // every survivor saw two lords: the epoch moved at least twice
            expect(v.epoch).toBeGreaterThanOrEqual(2n);
          }
        },
      ),
      { numRuns: 40 },
    );
  });

  it('a node raised above all by set-valor takes the title everywhere within a few intervals', () => {
    fc.assert(
      fc.property(clusterArb, fc.nat(4), (c, pick) => {
        const cluster = build(c);
        cluster.run(15 * INTERVAL);
        const i = pick % c.nodes.length;
        cluster.command(i, { type: 'set-valor', valor: 10n });
        cluster.run(15 * INTERVAL + 3 * INTERVAL);
        for (const n of cluster.nodes) {
          const v = n.driver.view();
          expect(v.lord?.uuid).toBe(c.nodes[i]!.uuid);
          // the old identity was buried, not left to time out
          expect(v.members).toHaveLength(c.nodes.length);
        }
      }),
      { numRuns: 40 },
    );
  });
});
