/** Scenario YAML: every library file loads, and mistakes produce errors naming the file and key. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadScenario, parseScenario, ScenarioError } from '../../sim/scenario.js';
import { SCENARIOS } from './helpers.js';

function err(yaml: string): string {
  try {
    parseScenario(yaml, 'bad.yaml');
  } catch (e) {
    expect(e).toBeInstanceOf(ScenarioError);
    expect((e as ScenarioError).code).toBe('ERR_SCENARIO');
    return (e as Error).message;
  }
  throw new Error('expected an error');
}

const NODES = 'nodes: [{name: n1, valor: 10}, {name: n2, valor: 20}, {name: n3}]\n';

describe('scenario library', () => {
  const files = readdirSync(SCENARIOS).filter((f) => f.endsWith('.yaml'));

  it('has the scenarios the tests and docs rely on', () => {
    for (const name of [
      'lord-crash',
      'lord-shutdown',
      'partition-minority',
      'partition-minority-noquorum',
      'partition-majority',
      'asymmetric',
      'bridge',
      'ring',
      'paused-lord',
      'loss-30',
      'arbiter-tiebreak',
      'scale-100',
      'scale-1000',
    ]) {
      expect(files).toContain(`${name}.yaml`);
    }
  });

  it.each(files)('%s loads', (f) => {
    const sc = loadScenario(join(SCENARIOS, f));
    expect(sc.nodes.length).toBeGreaterThan(0);
    expect(sc.name).toBe(f.replace(/\.yaml$/, ''));
    for (const e of sc.timeline) expect(e.atMs).toBeLessThanOrEqual(sc.durationMs);
  });
});

describe('scenario parsing', () => {
  it('fills defaults from the daemon config', () => {
    const sc = parseScenario(NODES, 'x.yaml');
    expect(sc.timing).toEqual({
      intervalMs: 250,
      toleranceMs: 1000,
      jitter: 0.2,
      preempt: true,
      preemptDelayMs: 0,
      lordDelayMs: 0,
    });
    expect(sc.quorum).toBe(1);
    expect(sc.nodes.map((n) => n.valor)).toEqual([10n, 20n, 1n]);
    expect(sc.name).toBe('x');
  });

  it('understands majority, counts, durations and every action', () => {
    const sc = parseScenario(
      `quorum: majority
duration: 2m
nodes: [{count: 4, valor: "18446744073709551615"}, {name: arb, valor: 0}]
timeline:
  - {at: 90s, heal: true}
  - {at: 1s, crash: {node: lord, restart_after: 1.5s}}
  - {at: 2s, partition: {groups: [[n1, n2]]}}
  - {at: 3s, partition: [{one_way: {from: n1, to: [n2, n3]}}, {cut: [[n3, n4]]}]}
  - {at: 4s, partition: {ring: 1}}
  - {at: 5s, loss: 0.3}
  - {at: 6s, network: {delay: 5ms, from: [n1], to: n2}}
  - {at: 7s, pause: {node: random, for: 3s}}
  - {at: 8s, skew: {node: n1, by: -40s}}
  - {at: 9s, set-valor: {node: n2, valor: 99}}
  - {at: 10s, stepdown: lord}
  - {at: 11s, hooks: {node: n3, duration: 2s, fail: [lord], fail_stepdown: 5s}}
  - {at: 12s, shutdown: follower}
`,
      's.yaml',
    );
    expect(sc.quorum).toBe(3);
    expect(sc.durationMs).toBe(120_000);
    expect(sc.nodes.map((n) => n.name)).toEqual(['n1', 'n2', 'n3', 'n4', 'arb']);
    expect(sc.nodes[0]!.valor).toBe((1n << 64n) - 1n);
    expect(sc.timeline.map((e) => e.atMs)).toEqual([
      1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000, 11000, 12000, 90000,
    ]);
    expect(sc.timeline[0]!.action).toEqual({
      type: 'crash',
      node: 'lord',
      restartAfterMs: 1500,
      host: false,
    });
    expect(sc.timeline[2]!.action).toEqual({
      type: 'partition',
      shapes: [
        { kind: 'one-way', from: ['n1'], to: ['n2', 'n3'] },
        { kind: 'cut', pairs: [['n3', 'n4']] },
      ],
    });
    expect(sc.timeline[5]!.action).toEqual({
      type: 'network',
      link: { delayMs: 5 },
      from: ['n1'],
      to: ['n2'],
    });
    expect(sc.timeline[7]!.action).toEqual({ type: 'skew', node: 'n1', byMs: -40_000 });
    expect(sc.timeline[9]!.action).toEqual({
      type: 'stepdown',
      node: 'lord',
      forMs: 30_000,
      repeat: 1,
      everyMs: 0,
    });
    expect(sc.timeline[10]!.action).toEqual({
      type: 'hooks',
      node: 'n3',
      hooks: { durationMs: 2000, fail: ['lord'], failStepdownMs: 5000 },
    });
  });

  it('reads lord-only work (hooks, daemons, cron, per node or for all) and the faults about it', () => {
    const sc = parseScenario(
      `hooks: {duration: 100ms, events: [lord, unlord]}
daemons: [{grace: 3s, term: 1s, exit_after: 20s}]
cron: [{schedule: "*/2 * * * * *", duration: 1.5s}]
nodes: [{name: a, valor: 10}, {name: arb, valor: 0, daemons: [], cron: [], hooks: {events: []}}]
timeline:
  - {at: 1s, crash: {node: a, host: true}}
  - {at: 2s, freeze: {node: lord, for: 2s}}
  - {at: 3s, thaw: a}
  - {at: 4s, stepdown: {node: lord, for: 500ms, repeat: 4, every: 2s}}
`,
      'w.yaml',
    );
    const [a, arb] = sc.nodes;
    expect(a!.hooks).toMatchObject({ events: ['lord', 'unlord'], durationMs: 100 });
    expect(a!.daemons).toEqual([{ graceMs: 3000, backoffMs: 1000, termMs: 1000, exitAfterMs: 20_000 }]);
    expect(a!.cron).toEqual([{ schedule: '*/2 * * * * *', durationMs: 1500, termMs: 0, timeoutMs: null }]);
    expect(arb).toMatchObject({ daemons: [], cron: [], hooks: { events: [], durationMs: 100 } });
    expect(sc.timeline.map((e) => e.action)).toEqual([
      { type: 'crash', node: 'a', restartAfterMs: null, host: true },
      { type: 'freeze', node: 'lord', forMs: 2000 },
      { type: 'thaw', node: 'a' },
      { type: 'stepdown', node: 'lord', forMs: 500, repeat: 4, everyMs: 2000 },
    ]);
    expect(() =>
      parseScenario(`${NODES}timeline: [{at: 1s, stepdown: {node: n1, repeat: 2}}]`, 'r.yaml'),
    ).toThrow(/a repeated stepdown needs "every"/);
  });

  it.each([
    ['not: [valid', /bad\.yaml: not valid YAML/],
    ['nodes: []', /bad\.yaml: nodes: a scenario needs at least one node/],
    ['duration: 10s', /bad\.yaml: nodes: a scenario needs nodes/],
    [`${NODES}colour: red`, /bad\.yaml: \(top\): unknown key "colour"/],
    [`${NODES}duration: soon`, /bad\.yaml: duration: expected a duration/],
    [`${NODES}quorum: 4`, /bad\.yaml: quorum: expected a number in 1\.\.3/],
    [
      `${NODES}timing: {interval: 1s, tolerance: 500ms}`,
      /timing\.tolerance: must be longer than the interval/,
    ],
    [`${NODES}timing: {jitter: 0.9}`, /timing\.jitter: expected a number in 0\.\.0\.5/],
    [`${NODES}network: {loss: 2}`, /network\.loss: expected a number in 0\.\.1/],
    ['nodes: [{name: a}, {name: a}]', /nodes\[1\]\.name: duplicate node name "a"/],
    ['nodes: [{name: lord}]', /"lord" is reserved/],
    ['nodes: [{name: a, valor: -1}]', /nodes\[0\]\.valor: expected an unsigned 64-bit integer/],
    [`${NODES}timeline: [{at: 1s, crash: n9}]`, /timeline\[0\]\.crash: unknown node "n9"/],
    [`${NODES}timeline: [{at: 1s}]`, /timeline\[0\]: each entry needs "at" and exactly one action/],
    [`${NODES}timeline: [{at: 1s, crash: n1, heal: true}]`, /exactly one action/],
    [`${NODES}timeline: [{at: 1s, explode: n1}]`, /timeline\[0\]: unknown key "explode"/],
    [`${NODES}timeline: [{at: 2m, heal: true}]`, /after the end/],
    [
      `${NODES}timeline: [{at: 1s, pause: {node: n1, for: forever}}]`,
      /timeline\[0\]\.pause\.for: expected a duration/,
    ],
    [`${NODES}timeline: [{at: 1s, partition: {groups: [[n1]], ring: 1}}]`, /give exactly one of groups/],
    [
      `${NODES}timeline: [{at: 1s, partition: {cut: [[n1]]}}]`,
      /timeline\[0\]\.partition\.cut\[0\]: a cut pair is \[a, b\]/,
    ],
    [
      `${NODES}timeline: [{at: 1s, hooks: {fail: [boom]}}]`,
      /timeline\[0\]\.hooks\.fail\[0\]: expected one of setup/,
    ],
  ])('%s → clear error', (yaml, re) => {
    expect(err(yaml)).toMatch(re);
  });

  it('a missing file is a ScenarioError naming the file', () => {
    expect(() => loadScenario('/nonexistent/x.yaml')).toThrow(/\/nonexistent\/x\.yaml: cannot read/);
  });
});
