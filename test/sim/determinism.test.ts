/** Same seed, same run: the trace hash names a run exactly. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/run.js';
import { TraceHasher, type TraceRecord } from '../../sim/trace.js';
import { scenario } from './helpers.js';

describe('determinism', () => {
  const sc = scenario('lord-crash', (s) => ({ ...s, network: { ...s.network, loss: 0.1, dup: 0.05 } }));

  it('the same seed gives the same trace hash, record count and figures', () => {
    for (const seed of [1, 7, 123456]) {
      const a = runScenario(sc, { seed }).report;
      const b = runScenario(sc, { seed }).report;
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.records).toBe(a.records);
      expect(b.metrics).toEqual(a.metrics);
      expect(b.stats).toEqual(a.stats);
    }
  });

  it('different seeds give different runs', () => {
    const hashes = new Set([1, 2, 3, 4, 5].map((seed) => runScenario(sc, { seed }).report.traceHash));
    expect(hashes.size).toBe(5);
  });

  it('authenticated packets (AES-256-GCM) are deterministic too, and elect the same way', () => {
    const a = runScenario(sc, { seed: 9, secure: true }).report;
    const b = runScenario(sc, { seed: 9, secure: true }).report;
    expect(b.traceHash).toBe(a.traceHash);
    expect(a.violationCount).toBe(0);
    expect(a.metrics.failovers).toHaveLength(1);
    expect(a.stats.counters['drop:ERR_AUTH'] ?? 0).toBe(0);
  });

  it('tracking views (for pictures) adds records but changes no decision', () => {
    const plain = runScenario(sc, { seed: 3, keepTrace: true });
    const viewed = runScenario(sc, { seed: 3, keepTrace: true, trackViews: true });
    const decisions = (t: typeof plain.trace) => t.filter((r) => r.kind !== 'view');
    expect(decisions(viewed.trace)).toEqual(decisions(plain.trace));
    expect(viewed.trace.some((r) => r.kind === 'view')).toBe(true);
  });

  it('hashes every record as the tab-joined values of its fields, nulls empty', () => {
    const records: TraceRecord[] = [
      { t: 1.5, kind: 'start', slot: 0, uuid: 'u0', valor: 10n, epoch: 3n },
      {
        t: 2,
        kind: 'event',
        slot: 1,
        uuid: 'u1',
        event: 'node-joined',
        epoch: 3n,
        lord: null,
        member: 'u0',
        reason: null,
      },
      {
        t: 2.25,
        kind: 'event',
        slot: 1,
        uuid: 'u1',
        event: 'lord',
        epoch: 4n,
        lord: 'u1',
        member: null,
        reason: 'x',
      },
      { t: 3, kind: 'note', slot: null, text: 'a note' },
    ];
    const hasher = new TraceHasher();
    for (const r of records) hasher.add(r);
    const lines = records.map((r) => `${Object.values(r).join('\t')}\n`).join('');
    expect(lines).toContain('2\tevent\t1\tu1\tnode-joined\t3\t\tu0\t\n');
    expect(hasher.digest()).toBe(createHash('sha256').update(lines).digest('hex'));
  });
});
