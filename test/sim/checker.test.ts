/** The checker and metrics must catch a broken core: run them against deliberately mutated machines. */
import { describe, expect, it } from 'vitest';
import { Checker } from '../../sim/checker.js';
import type { LordProbe } from '../../sim/host.js';
import { Metrics } from '../../sim/metrics.js';
import type { Scenario } from '../../sim/scenario-types.js';
import { nativeProbe, Simulation } from '../../sim/world.js';
import { type NativeState, nativeMachine } from '../../src/legion/machine.js';
import type { Effect, Machine } from '../../src/legion/types.js';
import type { Announce } from '../../src/protocol/types.js';
import { scenario } from './helpers.js';

function mutate(edit: (effects: Effect[]) => Effect[]): Machine<NativeState, Announce> {
  return {
    ...nativeMachine,
    step: (s, i, c) => {
      const r = nativeMachine.step(s, i, c);
      return { ...r, effects: edit(r.effects) };
    },
  };
}

function check(
  sc: Scenario,
  machine: Machine<NativeState, Announce>,
  probe: LordProbe<NativeState> = nativeProbe,
) {
  const sim = new Simulation(sc, { seed: 1, machine, probe });
  const checker = new Checker(sim);
  const metrics = new Metrics(sim);
  sim.addListener(checker.listener);
  sim.addListener(metrics.listener);
  sim.run();
  return { checker, metrics: metrics.finish(sim.now) };
}

describe('checker against mutated cores', () => {
  const sc = scenario('lord-crash');

  it('the real core passes', () => {
    expect(check(sc, nativeMachine).checker.violationCount).toBe(0);
  });

  it('catches a missing unlord (the woken lord drops its title silently, then wins it back)', () => {
    const m = mutate((es) => es.filter((e) => !(e.type === 'event' && e.event.type === 'unlord')));
    const { checker } = check(scenario('paused-lord'), m);
    expect(
      checker.violations.some(
        (v) => v.kind === 'hook-order' && /lord: while already lord|death: while lord/.test(v.text),
      ),
    ).toBe(true);
  });

  it('catches a lord event that does not raise the epoch', () => {
    const m = mutate((es) =>
      es.map((e) =>
        e.type === 'event' && e.event.type === 'lord' ? { ...e, event: { ...e.event, epoch: 1n } } : e,
      ),
    );
    const kinds = new Set(check(sc, m).checker.violations.map((v) => v.kind));
    expect(kinds.has('epoch-node')).toBe(true);
    expect(kinds.has('epoch-global')).toBe(true);
  });

  it('catches two lords with the same epoch under a majority quorum, and measures the overlap', () => {
    const liar: LordProbe<NativeState> = (s) => ({
      lord: s.phase === 'running',
      epoch: 7n,
      maxEpoch: s.maxEpoch,
    });
    const { checker, metrics } = check(sc, nativeMachine, liar);
    expect(checker.violations.some((v) => v.kind === 'same-epoch')).toBe(true);
    expect(metrics.overlap.count).toBeGreaterThan(0);
    expect(metrics.overlap.longestMs).toBeGreaterThan(1000);
  });

  it('without a majority quorum the same-epoch finding is a note, not a violation', () => {
    const liar: LordProbe<NativeState> = (s) => ({
      lord: s.phase === 'running',
      epoch: 7n,
      maxEpoch: s.maxEpoch,
    });
    const { checker } = check({ ...sc, quorum: 1 }, nativeMachine, liar);
    expect(checker.violations.filter((v) => v.kind === 'same-epoch')).toEqual([]);
    expect(checker.notes.some((v) => v.kind === 'same-epoch')).toBe(true);
  });

  it('catches a lord that outlives its lease on the minority side', () => {
    // the probe pretends that a node, once lord, keeps the title for as long as it runs
    const held = new Map<string, bigint>();
    const sticky: LordProbe<NativeState> = (s) => {
      if (s.lord && !held.has(s.params.uuid)) held.set(s.params.uuid, s.lordEpoch);
      const epoch = held.get(s.params.uuid);
      return {
        lord: s.lord || (s.phase === 'running' && epoch !== undefined),
        epoch: s.lord ? s.lordEpoch : (epoch ?? 0n),
        maxEpoch: s.maxEpoch,
      };
    };
    const sc2 = scenario('partition-minority');
    expect(check(sc2, nativeMachine).checker.violations.filter((v) => v.kind === 'lease')).toEqual([]);
    const lease = check(sc2, nativeMachine, sticky).checker.violations.filter((v) => v.kind === 'lease');
    expect(lease.length).toBeGreaterThan(0);
    expect(lease[0]!.node).toBe('n5');
    // due once tolerance (+ slack) has passed since the split
    expect(lease[0]!.atMs).toBeGreaterThan(10_000 + sc2.timing.toleranceMs);
    expect(lease[0]!.atMs).toBeLessThan(10_000 + sc2.timing.toleranceMs + sc2.timing.intervalMs + 10);
  });

  it('catches events after death', () => {
    let dead = new Set<string>();
    const m: Machine<NativeState, Announce> = {
      ...nativeMachine,
      step: (s, i, c) => {
        const r = nativeMachine.step(s, i, c);
        if (r.effects.some((e) => e.type === 'event' && e.event.type === 'death')) {
          dead = new Set([...dead, s.params.uuid]);
          const death = r.effects.find((e) => e.type === 'event' && e.event.type === 'death')!;
          return { ...r, effects: [...r.effects, death] };
        }
        return r;
      },
    };
    const { checker } = check(scenario('lord-shutdown'), m);
    expect(checker.violations.some((v) => v.kind === 'hook-order' && v.text === 'death: after death')).toBe(
      true,
    );
  });
});
