/**
 * "Exactly one" on the simulated legion: the hosts run the daemon's own lord-only work
 * (src/daemon/legion-node.ts: LegionRunner + LegionWork) on virtual processes and guards, and
 * sim/work-checker.ts finds overlapping workloads. The work-* scenarios must have none; the
 * checker must fail when the guard contract is broken; the README's exceptions are notes.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { type RunResult, runScenario, runScenarioAsync } from '../../sim/run.js';
import { scenarioFromObject } from '../../sim/scenario.js';
import type { TraceRecord } from '../../sim/trace.js';
import { runSeedsAsync, scenario, slotOf, violationsText } from './helpers.js';

type Proc = Extract<TraceRecord, { kind: 'proc' }>;
const procs = (r: RunResult, work?: string): Proc[] =>
  r.trace.filter((x): x is Proc => x.kind === 'proc' && (work === undefined || x.work === work));
const faultAt = (r: RunResult, action: string): number =>
  r.trace.find((x) => x.kind === 'fault' && x.action === action)!.t;

const SEEDS = 8;
const LIBRARY = ['work-pause', 'work-stepdown-flap', 'work-crash-host-alive', 'work-cron-failover'];

describe('the work-* scenarios', () => {
  const results = new Map<string, RunResult[]>();
  beforeAll(async () => {
    for (const name of LIBRARY) results.set(name, await runSeedsAsync(scenario(name), SEEDS));
  });

  it.each(LIBRARY)('%s: no lord-only work overlaps, no violation, and work did run', (name) => {
    const rs = results.get(name)!;
    expect(violationsText(rs)).toBe('');
    for (const r of rs) {
      expect(r.report.work.overlap.count, `seed ${r.report.seed}`).toBe(0);
      const w = r.report.work.started;
      expect(w.daemon + w.cron, `seed ${r.report.seed}`).toBeGreaterThan(2);
    }
  });

  it("work-pause: the paused lord's guard kills its daemon while legiond is stopped, before the successor's starts", () => {
    for (const r of results.get('work-pause')!) {
      const pausedAt = faultAt(r, 'pause');
      const ds = procs(r, 'daemon');
      const first = ds.find((p) => p.op === 'exit' && p.t > pausedAt)!;
      expect(first.how, `seed ${r.report.seed}`).toBe('SIGKILL');
      expect(first.t).toBeLessThan(pausedAt + 5000);
      const next = ds.find((p) => p.op === 'start' && p.t > pausedAt)!;
      expect(next.slot).not.toBe(first.slot);
      expect(next.t).toBeGreaterThan(first.t);
      expect(next.epoch).toBeGreaterThan(first.epoch);
    }
  });

  it('work-crash-host-alive: the dead legiond’s daemon gets SIGTERM at once and SIGKILL a fence grace later', () => {
    for (const r of results.get('work-crash-host-alive')!) {
      const crashAt = faultAt(r, 'crash');
      const crashed = r.trace.find(
        (x): x is Extract<TraceRecord, { kind: 'status' }> => x.kind === 'status' && x.status === 'down',
      )!;
      const old = procs(r, 'daemon').find(
        (p) => p.op === 'exit' && p.slot === crashed.slot && p.t >= crashAt,
      )!;
      // term 1 s: killed at the crash + 250 ms, the fence grace lord_delay makes room for
      expect({ t: old.t - crashAt, how: old.how }, `seed ${r.report.seed}`).toEqual({
        t: 250,
        how: 'SIGKILL',
      });
      const successor = procs(r).find((p) => p.op === 'start' && p.slot !== crashed.slot && p.t > crashAt)!;
      expect(successor.t).toBeGreaterThan(crashAt + 1000);
    }
  });

  it('work-cron-failover: runs follow the title; the departing lord stops its run before it releases', () => {
    for (const r of results.get('work-cron-failover')!) {
      const runs = procs(r, 'cron');
      const starts = runs.filter((p) => p.op === 'start');
      // every 2 s, but for the failovers' gaps
      expect(starts.length, `seed ${r.report.seed}`).toBeGreaterThanOrEqual(14);
      expect(new Set(starts.map((p) => p.t % 2000))).toEqual(new Set([0]));
      const shutdownAt = faultAt(r, 'shutdown');
      const stopped = runs.find((p) => p.op === 'exit' && p.t >= shutdownAt)!;
      expect(stopped.how).toBe('SIGTERM');
      const death = r.trace.find((x) => x.kind === 'event' && x.event === 'death')!;
      expect(stopped.t).toBeLessThanOrEqual(death.t);
    }
  });

  it('work-stepdown-flap: the slow daemon gets its full stop time before anyone else starts one', () => {
    for (const r of results.get('work-stepdown-flap')!) {
      const stepdownAt = faultAt(r, 'stepdown');
      const ds = procs(r, 'daemon');
      const stopped = ds.find((p) => p.op === 'exit' && p.t >= stepdownAt)!;
      expect({ after: stopped.t - stepdownAt, how: stopped.how }).toEqual({ after: 3000, how: 'SIGTERM' });
      // a daemon starts only once the previous one is gone
      let running = 0;
      for (const p of ds) {
        running += p.op === 'start' ? 1 : -1;
        expect(running, `seed ${r.report.seed} at ${p.t}`).toBeLessThanOrEqual(1);
      }
    }
  });

  it('the same with folded heartbeats', async () => {
    for (const name of LIBRARY) {
      const rs = await runSeedsAsync(scenario(name), 3, 1, { heartbeats: 'folded' });
      expect(violationsText(rs), name).toBe('');
    }
  });

  it('a seed names a run: the same trace twice', async () => {
    const sc = scenario('work-stepdown-flap');
    const a = await runScenarioAsync(sc, { seed: 4 });
    const b = await runScenarioAsync(sc, { seed: 4 });
    expect(a.report.traceHash).toBe(b.report.traceHash);
    expect((await runScenarioAsync(sc, { seed: 5 })).report.traceHash).not.toBe(a.report.traceHash);
  });
});

describe('the checker', () => {
  it('fails when the guards ignore the fence: the paused lord’s daemon runs on beside its successor’s', async () => {
    const sc = scenario('work-pause');
    const r = await runScenarioAsync(sc, { seed: 1, keepTrace: true, processes: { ignoreFence: true } });
    const overlaps = r.report.violations.filter((v) => v.kind === 'work-overlap');
    expect(overlaps.length).toBeGreaterThan(0);
    expect(overlaps[0]!.text).toMatch(
      /^lord-only work overlaps: n\d daemon .* starts while n3 daemon .* runs$/,
    );
    // until the old lord wakes, sees its lease gone and stops its daemon itself
    expect(r.report.work.overlap.longestMs).toBeGreaterThan(3000);
  });

  it('without a majority quorum, work on both sides of a partition is a note', async () => {
    // two nodes, quorum 1, cut apart: each side elects and runs its daemon
    const sc = scenarioFromObject(
      {
        duration: '12s',
        daemons: [{}],
        nodes: [
          { name: 'a', valor: 10 },
          { name: 'b', valor: 20 },
        ],
        timeline: [{ at: '4s', partition: { isolate: 'b' } }],
      },
      'split',
    );
    const r = await runScenarioAsync(sc, { seed: 1 });
    // quorum 1: both are notes, as the README says a partition without a majority quorum allows
    expect(r.report.violationCount).toBe(0);
    expect(r.report.notes.some((v) => v.kind === 'work-overlap')).toBe(true);
  });

  it('a frozen host (VM pause): its daemon beside the successor’s is a note (README: the guard is frozen too)', async () => {
    const sc = scenario('work-pause', (s) => ({
      ...s,
      timeline: [{ atMs: 10_000, action: { type: 'freeze', node: 'lord', forMs: 5000 } }],
    }));
    const r = await runScenarioAsync(sc, { seed: 1, keepTrace: true });
    expect(r.report.violationCount).toBe(0);
    const note = r.report.notes.find((v) => v.kind === 'work-overlap');
    expect(note?.text).toMatch(/a host was frozen/);
    // on thaw the guard, past its fence, kills first, then legiond resumes
    const thaw = faultAt(r, 'thaw');
    const killed = procs(r, 'daemon').find((p) => p.op === 'exit' && p.slot === slotOf(sc, 'n3'))!;
    expect({ t: killed.t, how: killed.how }).toEqual({ t: thaw, how: 'SIGKILL' });
  });

  it("a paused lord's lord-to-unlord hook span beside its successor's is a note: no unlord hook runs in a stopped legiond", async () => {
    const sc = scenario('work-pause', (s) => ({
      ...s,
      nodes: s.nodes.map((n) => ({
        ...n,
        hooks: { ...n.hooks, events: ['lord', 'unlord'], durationMs: 100 },
      })),
    }));
    const r = await runScenarioAsync(sc, { seed: 1 });
    expect(r.report.violationCount).toBe(0);
    expect(r.report.notes.some((v) => /lord hook span .* runs \(its legiond was paused/.test(v.text))).toBe(
      true,
    );
  });

  it('a lord hook without an unlord hook starts no span', async () => {
    const sc = scenario('lord-crash', (s) => ({
      ...s,
      nodes: s.nodes.map((n) => ({ ...n, hooks: { ...n.hooks, events: ['lord'], durationMs: 100 } })),
    }));
    const r = await runScenarioAsync(sc, { seed: 1 });
    expect(r.report.violationCount).toBe(0);
    expect(r.report.work.started.lord).toBe(0);
  });

  describe('a lord that loses its lease to a partition runs its unlord hook past the fence', () => {
    const doc = (lordDelay: string) => ({
      duration: '20s',
      quorum: 'majority',
      timing: { lord_delay: lordDelay },
      hooks: { duration: '300ms', events: ['lord', 'unlord'] },
      nodes: [1, 2, 3, 4, 5].map((i) => ({ name: `n${i}`, valor: i * 10 })),
      timeline: [{ at: '5s', partition: { groups: [['n1', 'n5']] } }],
    });

    it('with lord_delay 0 the successor’s lord hook starts during it: a note', async () => {
      const r = await runScenarioAsync(scenarioFromObject(doc('0ms'), 'cut'), { seed: 1 });
      expect(r.report.violationCount).toBe(0);
      expect(
        r.report.notes.some((v) => /lord hook span .* runs \(its packets do not reach n4/.test(v.text)),
      ).toBe(true);
    });

    it('a lord_delay longer than the unlord hook covers it', async () => {
      const r = await runScenarioAsync(scenarioFromObject(doc('500ms'), 'cut'), { seed: 1 });
      expect(r.report.violationCount).toBe(0);
      expect(r.report.work.overlap.count).toBe(0);
    });
  });

  /**
   * A vote that went out under a quorum is a promise (src/legion/vote.ts, promisedVote): with
   * preempt_delay 0 a better candidate returning from a partition, that never heard the sitting
   * lord's claim, is not voted lord while that lord, now isolated, still holds its lease.
   */
  it('a returning better candidate is not elected while the isolated lord holds its lease', async () => {
    const sc = scenarioFromObject(
      {
        duration: '10s',
        quorum: 3,
        network: { loss: 0.02, delay: '1ms', jitter: '2ms', dup: 0.02 },
        hooks: { duration: '150ms', events: ['lord', 'unlord'] },
        daemons: [{ grace: '2s', term: '800ms' }],
        nodes: [1, 2, 3, 4, 5].map((i) => ({ name: `n${i}`, valor: i * 10 })),
        timeline: [
          { at: '500ms', partition: { groups: [['n2', 'n5']] } },
          { at: '1392ms', partition: { isolate: 'n4' } },
        ],
      },
      'repartition',
    );
    const r = await runScenarioAsync(sc, { seed: 1 });
    expect(violationsText([r])).toBe('');
  });
});

describe('runs without lord-only work', () => {
  it('stay synchronous and start no process', () => {
    const r = runScenario(scenario('lord-crash'), { seed: 1, keepTrace: true });
    expect(r.trace.some((x) => x.kind === 'proc')).toBe(false);
    expect(r.report.work.started).toEqual({ daemon: 0, cron: 0, lord: 0 });
  });

  it('windowed scheduling refuses a run with lord-only work', () => {
    expect(() => runScenario(scenario('work-pause'), { seed: 1, windowed: true })).toThrow(
      /windowed scheduling runs nodes without lord-only work/,
    );
  });
});
