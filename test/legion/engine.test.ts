import { describe, expect, it } from 'vitest';
import { engineMachine } from '../../src/legion/engine/machine.js';
import { EngineModel } from './engine-harness.js';

const A = 'aaaaaaaa-0000-4000-8000-000000000001';
const B = 'bbbbbbbb-0000-4000-8000-000000000002';
const C = 'cccccccc-0000-4000-8000-000000000003';

function trio(m: EngineModel, valors: [bigint, bigint, bigint], o: { hooksMs?: number } = {}) {
  m.add(m.params(A, valors[0]), o);
  m.add(m.params(B, valors[1]), o);
  m.add(m.params(C, valors[2]), o);
}

function strictlyIncreasing(xs: bigint[]): boolean {
  return xs.every((x, i) => i === 0 || x > xs[i - 1]!);
}

describe('strong-mode core: election through the engine', () => {
  it('the best registered candidate by valor takes the title, and only it', () => {
    const m = new EngineModel();
    trio(m, [1n, 3n, 2n]);
    m.run(2000);
    expect(m.lords().map((n) => n.uuid)).toEqual([B]);
    expect(m.grants.map((g) => g.uuid)).toEqual([B]);
    for (const u of [A, C])
      expect(engineMachine.view(m.nodes.get(u)!.state, { now: m.now, rand: Math.random }).lord?.uuid).toBe(B);
    expect(m.overlaps).toEqual([]);
  });

  it('equal valors: the greater UUID wins', () => {
    const m = new EngineModel();
    trio(m, [5n, 5n, 5n]);
    m.run(2000);
    expect(m.lords().map((n) => n.uuid)).toEqual([C]);
  });

  it('arbiters (valor 0) register but never take the title', () => {
    const m = new EngineModel();
    m.add(m.params(A, 0n));
    m.run(3000);
    expect(m.lords()).toEqual([]);
    expect(m.candidates.get(A)?.standing).toBe(false);
    expect(m.eventsOf(A, 'join')).toHaveLength(1);
  });

  it('a better candidate preempts, sequenced: the old lord stops its work before it releases', () => {
    const m = new EngineModel();
    m.add(m.params(A, 2n, { preemptDelayMs: 500 }), { hooksMs: 400 });
    m.run(1000);
    expect(m.lords().map((n) => n.uuid)).toEqual([A]);
    const joinedAt = m.now;
    m.add(m.params(C, 9n), { hooksMs: 400 });
    m.run(3000);
    expect(m.lords().map((n) => n.uuid)).toEqual([C]);
    const unlord = m.eventsOf(A, 'unlord')[0]!;
    expect(unlord.reason).toBe('preempted');
    expect(unlord.atMs).toBeGreaterThanOrEqual(joinedAt + 500);
    const grantC = m.grants.find((g) => g.uuid === C)!;
    // A's hooks took 400 ms; C was granted only after they were done
    expect(grantC.at).toBeGreaterThanOrEqual(unlord.atMs + 400);
    // and quickly after: a few round trips, not a TTL
    expect(grantC.at - (unlord.atMs + 400)).toBeLessThan(100);
    expect(m.overlaps).toEqual([]);
  });

  it('preempt: false keeps the sitting lord', () => {
    const m = new EngineModel();
    m.add(m.params(A, 2n, { preempt: false }));
    m.run(1000);
    m.add(m.params(C, 9n));
    m.run(4000);
    expect(m.lords().map((n) => n.uuid)).toEqual([A]);
  });

  it('stepdown hands the title to the next best, then the node stands again', () => {
    const m = new EngineModel();
    trio(m, [1n, 3n, 2n], { hooksMs: 100 });
    m.run(2000);
    m.command(B, { type: 'stepdown', forMs: 5000 });
    m.run(1000);
    expect(m.lords().map((n) => n.uuid)).toEqual([C]);
    expect(m.eventsOf(B, 'unlord')[0]?.reason).toBe('stepdown');
    m.run(8000);
    // the stepdown ran out: B is the best again and preempts
    expect(m.lords().map((n) => n.uuid)).toEqual([B]);
    expect(m.overlaps).toEqual([]);
  });

  it('a clean shutdown of the lord moves the title within a few round trips', () => {
    const m = new EngineModel();
    trio(m, [1n, 3n, 2n], { hooksMs: 100 });
    m.run(2000);
    m.command(B, { type: 'shutdown' });
    m.run(1000);
    expect(m.nodes.get(B)!.stopped).toBe(true);
    expect(m.eventsOf(B, 'death')).toHaveLength(1);
    const g = m.grants.at(-1)!;
    expect(g.uuid).toBe(C);
    const unlord = m.eventsOf(B, 'unlord')[0]!;
    expect(g.at - (unlord.atMs + 100)).toBeLessThan(50);
    expect(m.overlaps).toEqual([]);
  });
});

describe('strong-mode core: faults', () => {
  it('a lord cut off from the engine steps down on its own clock before its grant can expire', () => {
    const m = new EngineModel(3000);
    trio(m, [1n, 3n, 2n], { hooksMs: 200 });
    m.run(2000);
    const b = m.nodes.get(B)!;
    b.cut = true;
    const cutAt = m.now;
    m.run(6000);
    const unlord = m.eventsOf(B, 'unlord')[0]!;
    expect(unlord.reason).toBe('lease');
    // within two thirds of a TTL of the last renewal, which was at most a third before the cut
    expect(unlord.atMs).toBeLessThan(cutAt + 3000);
    const lease = engineMachine.workLease(b.state, m.now);
    expect(lease).toBeNull();
    const g = m.grants.at(-1)!;
    expect(g.uuid).toBe(C);
    // granted after B's work had to be gone
    expect(g.at).toBeGreaterThan(unlord.atMs + 200);
    expect(m.overlaps).toEqual([]);
  });

  it('a crashed lord: the title moves once its lease expires, within TTL plus a renewal', () => {
    const m = new EngineModel(3000);
    trio(m, [1n, 3n, 2n]);
    m.run(2000);
    m.nodes.get(B)!.crashed = true;
    const at = m.now;
    m.run(6000);
    const g = m.grants.at(-1)!;
    expect(g.uuid).toBe(C);
    expect(g.at - at).toBeLessThanOrEqual(3000 + 1000 + 50);
    expect(m.overlaps).toEqual([]);
  });

  it('a paused lord wakes past its fence and drops the title at once; its successor came after the fence', () => {
    const m = new EngineModel(3000);
    trio(m, [1n, 3n, 2n], { hooksMs: 50 });
    m.run(2000);
    const b = m.nodes.get(B)!;
    b.pausedUntil = m.now + 8000;
    const fence = engineMachine.workLease(b.state, m.now)!.fenceAtMs;
    m.run(10_000);
    const unlord = m.eventsOf(B, 'unlord')[0]!;
    expect(unlord.reason).toBe('lease');
    expect(unlord.atMs).toBe(b.pausedUntil);
    const c = m.grants.find((g) => g.uuid === C)!;
    expect(c.at).toBeGreaterThan(fence);
    // awake again, B is the best and preempts C under a new token
    expect(m.lords().map((n) => n.uuid)).toEqual([B]);
    expect(m.grants.at(-1)!.epoch).toBeGreaterThan(c.epoch);
    expect(m.eventsOf(C, 'unlord')[0]?.reason).toBe('preempted');
    expect(m.overlaps).toEqual([]);
  });

  it('engine unreachable for everyone: no node is lord, and each says so', () => {
    const m = new EngineModel(3000);
    trio(m, [1n, 3n, 2n]);
    m.run(2000);
    for (const n of m.nodes.values()) n.cut = true;
    m.run(4000);
    expect(m.lords()).toEqual([]);
    for (const n of m.nodes.values()) {
      const v = engineMachine.view(n.state, { now: m.now, rand: Math.random });
      expect(v.lord).toBeNull();
      expect(v.quorumMet).toBe(false);
      expect(n.state.reachable).toBe(false);
    }
    for (const n of m.nodes.values()) n.cut = false;
    m.run(5000);
    expect(m.lords().map((n) => n.uuid)).toEqual([B]);
    expect(m.overlaps).toEqual([]);
  });

  it('the title removed by hand: nobody takes it while its holder may still work', () => {
    const m = new EngineModel(3000);
    trio(m, [1n, 3n, 2n], { hooksMs: 300 });
    m.run(2000);
    const before = m.grants.length;
    m.deleteTitle();
    m.run(6000);
    // B noticed at its next renewal, stopped, and took the title again under a new token
    expect(m.eventsOf(B, 'unlord')[0]?.reason).toBe('lost');
    expect(m.grants.length).toBeGreaterThan(before);
    expect(m.lords().map((n) => n.uuid)).toEqual([B]);
    expect(m.overlaps).toEqual([]);
  });

  it('a slow engine (each way 400 ms) keeps one lord and renews in time', () => {
    const m = new EngineModel(3000);
    m.add(m.params(A, 1n), { delayMs: 400 });
    m.add(m.params(B, 3n), { delayMs: 400 });
    m.run(8000);
    expect(m.lords().map((n) => n.uuid)).toEqual([B]);
    const grants = m.grants.length;
    m.run(20_000);
    expect(m.grants).toHaveLength(grants);
    expect(m.eventsOf(B, 'unlord')).toEqual([]);
    expect(m.overlaps).toEqual([]);
  });

  it('the epoch is the engine token: lord events carry it, strictly increasing over failovers', () => {
    const m = new EngineModel(2000);
    trio(m, [1n, 3n, 2n], { hooksMs: 20 });
    m.run(2000);
    m.command(B, { type: 'stepdown', forMs: 60_000 });
    m.run(2000);
    m.nodes.get(C)!.crashed = true;
    m.run(5000);
    m.command(B, { type: 'stepdown-cancel' });
    m.run(3000);
    const lordEvents = [...m.nodes.values()]
      .flatMap((n) => n.events.filter((e) => e.type === 'lord'))
      .sort((a, b) => a.atMs - b.atMs);
    expect(lordEvents.map((e) => e.epoch)).toEqual(m.grants.map((g) => g.epoch));
    expect(m.grants.map((g) => g.uuid)).toEqual([B, C, A, B]);
    expect(strictlyIncreasing(m.grants.map((g) => g.epoch))).toBe(true);
    expect(m.overlaps).toEqual([]);
  });
});
