/** Wall-clock skew only matters to the replay window for senders a node has not heard yet. */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/run.js';
import { scenarioFromObject } from '../../sim/scenario.js';
import type { TraceRecord } from '../../sim/trace.js';

function skewed(by: string) {
  return scenarioFromObject(
    {
      name: 'skew',
      duration: '10s',
      quorum: 'majority',
      nodes: [
        { name: 'n1', valor: 10 },
        { name: 'n2', valor: 20 },
        { name: 'n3', valor: 30 },
      ],
      timeline: [
        { at: '2s', skew: { node: 'n3', by } },
        { at: '4s', restart: 'n3' },
      ],
    },
    'skew',
  );
}

function joinsOf(trace: TraceRecord[], uuid: string) {
  return trace.filter(
    (r) => r.kind === 'event' && r.event === 'node-joined' && (r.member === uuid || r.uuid === uuid),
  );
}

describe('clock skew', () => {
  it('a running node whose clock jumps stays a member: known senders are checked by sequence only', () => {
    const r = runScenario(skewed('-40s'), { seed: 1, keepTrace: true });
    const before = r.trace.filter(
      (x) => x.kind === 'event' && x.event === 'node-left' && x.t >= 2_000 && x.t < 4_000,
    );
    expect(before).toEqual([]);
  });

  it('restarted with a clock 40 s off (window 30 s), nobody accepts it and it accepts nobody', () => {
    const r = runScenario(skewed('40s'), { seed: 1, keepTrace: true });
    const reborn = r.incarnations.find((i) => i.label === 'n3.2')!;
    expect(joinsOf(r.trace, reborn.uuid)).toEqual([]);
    expect(r.report.stats.counters['drop:ERR_REPLAY'] ?? 0).toBeGreaterThan(50);
    expect(r.report.violationCount).toBe(0);
  });

  it('restarted with a clock 10 s off, it joins as usual', () => {
    const r = runScenario(skewed('-10s'), { seed: 1, keepTrace: true });
    const reborn = r.incarnations.find((i) => i.label === 'n3.2')!;
    // it hears the two others, and both hear it
    expect(joinsOf(r.trace, reborn.uuid)).toHaveLength(4);
    expect(r.report.violationCount).toBe(0);
  });
});
