/**
 * Random fault schedules (fast-check): whatever happens, hook order, per-node epochs and — with a
 * majority quorum — unique epochs among lords must hold. A failure shrinks to a short schedule,
 * printed as scenario YAML that `npm run sim` can replay.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { runScenario } from '../../sim/run.js';
import { scenarioFromObject } from '../../sim/scenario.js';

// A fixed fast-check seed keeps CI reproducible; SIM_FC_SEED / SIM_FC_RUNS explore further.
const FC_SEED = Number(process.env.SIM_FC_SEED ?? 20_240_611);
const RUNS = Number(process.env.SIM_FC_RUNS ?? 40);

const NAMES = ['n1', 'n2', 'n3', 'n4', 'n5'];
const node = fc.constantFrom(...NAMES, 'lord', 'random');
const seconds = (min: number, max: number) =>
  fc.integer({ min: min * 10, max: max * 10 }).map((d) => `${d / 10}s`);
const subset = fc.subarray(NAMES, { minLength: 1, maxLength: 4 });

const fault = fc.oneof(
  fc.record({ crash: fc.record({ node, restart_after: seconds(0.5, 8) }) }),
  fc.record({ crash: node }),
  fc.record({ restart: fc.constantFrom(...NAMES) }),
  fc.record({ shutdown: fc.record({ node, restart_after: seconds(0.5, 8) }) }),
  fc.record({ partition: fc.record({ groups: fc.tuple(subset) }) }),
  fc.record({ partition: fc.record({ isolate: node }) }),
  fc.record({ partition: fc.record({ one_way: fc.record({ from: subset, to: subset }) }) }),
  fc.record({ heal: fc.constant(true) }),
  fc.record({ pause: fc.record({ node, for: seconds(0.2, 5) }) }),
  fc.record({ loss: fc.double({ min: 0, max: 0.6, noNaN: true }).map((x) => Math.round(x * 100) / 100) }),
  fc.record({ stepdown: fc.record({ node, for: seconds(0.5, 5) }) }),
);

const schedule = fc
  .array(fc.tuple(fc.integer({ min: 500, max: 24_000 }), fault), { maxLength: 8 })
  .map((entries) => entries.sort((a, b) => a[0] - b[0]).map(([at, f]) => ({ at: `${at}ms`, ...f })));

interface Modes {
  heartbeats?: 'full' | 'folded';
  windowed?: boolean;
}

function scenarioDoc(quorum: number, timeline: object[], modes: Modes = {}) {
  return {
    name: 'fuzz',
    ...modes,
    duration: '30s',
    quorum,
    network: { loss: 0.02, delay: '1ms', jitter: '2ms', dup: 0.02 },
    nodes: NAMES.map((name, i) => ({ name, valor: (i + 1) * 10 })),
    timeline,
  };
}

function check(quorum: number, seed: number, timeline: object[], modes: Modes = {}): void {
  const doc = scenarioDoc(quorum, timeline, modes);
  const r = runScenario(scenarioFromObject(doc, 'fuzz'), { seed }).report;
  if (r.violationCount > 0) {
    const lines = r.violations
      .slice(0, 5)
      .map((v) => `  ${v.atMs.toFixed(1)}ms ${v.kind} ${v.node}: ${v.text}`);
    throw new Error(
      `invariant violated with --seed ${seed}:\n${lines.join('\n')}\nscenario:\n${stringify(doc)}`,
    );
  }
  expect(r.violationCount).toBe(0);
}

describe('random fault schedules', () => {
  it('majority quorum: hook order, epochs and unique lord epochs always hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), schedule, (seed, timeline) =>
        check(3, seed, timeline),
      ),
      { numRuns: RUNS, seed: FC_SEED },
    );
  });

  it('quorum 1: hook order and per-node epochs always hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), schedule, (seed, timeline) =>
        check(1, seed, timeline),
      ),
      { numRuns: Math.ceil(RUNS * 0.75), seed: FC_SEED + 1 },
    );
  });

  it('folded heartbeats with windowed scheduling: the same invariants hold', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1_000_000 }), schedule, (seed, timeline) =>
        check(3, seed, timeline, { heartbeats: 'folded', windowed: true }),
      ),
      { numRuns: Math.ceil(RUNS * 0.75), seed: FC_SEED + 2 },
    );
  });
});
