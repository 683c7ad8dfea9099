/**
 * The shortcuts the incremental core takes (a cached lease deadline, a one-pass top-32, a peer
 * table shared between successive states) checked against the plain computations they replace
 * and against misuse of the shared table.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { attestations, MAX_ATTESTATIONS } from '../../src/legion/announce.js';
import { type NativeState, nativeMachine } from '../../src/legion/machine.js';
import { liveness } from '../../src/legion/peers.js';
import type { Step } from '../../src/legion/state.js';
import type { LegionParams, PeerRecord } from '../../src/legion/types.js';
import { leaseHoldsUntil, votesForSelf } from '../../src/legion/vote.js';
import { announce, Node, params, uuidOf } from './helpers.js';

const SELF = uuidOf(1);
const rand = () => 0.5;

function record(uuid: string, over: Partial<PeerRecord> = {}): PeerRecord {
  return {
    uuid,
    name: `peer-${uuid.slice(-4)}`,
    valor: 1n,
    epoch: 0n,
    vote: null,
    flags: { lord: false, arbiter: false, draining: false, dead: false },
    scroll: new Uint8Array(),
    viewDigest: 0,
    firstHeardMs: 0,
    lastDirectMs: 0,
    attestedMs: Number.NEGATIVE_INFINITY,
    ...over,
  };
}

function stepOn(p: LegionParams, now: number, vote: string | null = null): Step {
  const state = nativeMachine.init(p, { now, rand });
  return { s: { ...state, vote }, now, rand, effects: [] };
}

describe('leaseHoldsUntil', () => {
  // a shared name must count once, and self's name stands for self: both are in the pool
  const NAMES = ['self', 'n1', 'n2', 'n3', 'n4', 'n5', 'n6'];
  const PEERS = Array.from({ length: 9 }, (_, i) => uuidOf(i + 2));
  const peerArb = fc.record({
    name: fc.nat({ max: NAMES.length - 1 }),
    // self most of the time, so quorums can be reached and lost
    vote: fc.oneof(
      { weight: 3, arbitrary: fc.constant(SELF) },
      { weight: 1, arbitrary: fc.constantFrom(null, ...PEERS) },
    ),
    lastDirectMs: fc.integer({ min: 0, max: 1000 }),
    attestedMs: fc.option(fc.integer({ min: 0, max: 1200 }), { nil: Number.NEGATIVE_INFINITY }),
  });
  type Ev =
    | { kind: 'query'; dt: number }
    | { kind: 'direct'; peer: number; dt: number }
    | { kind: 'attest'; peer: number; ago: number }
    | { kind: 'revote'; peer: number; vote: string | null }
    | { kind: 'leave'; peer: number };
  const evArb: fc.Arbitrary<Ev> = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({ kind: fc.constant('query' as const), dt: fc.integer({ min: 0, max: 120 }) }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('direct' as const),
        peer: fc.nat({ max: PEERS.length - 1 }),
        dt: fc.integer({ min: 0, max: 60 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('attest' as const),
        peer: fc.nat({ max: PEERS.length - 1 }),
        ago: fc.integer({ min: 0, max: 200 }),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        kind: fc.constant('revote' as const),
        peer: fc.nat({ max: PEERS.length - 1 }),
        vote: fc.constantFrom(SELF, null, PEERS[0]!),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({ kind: fc.constant('leave' as const), peer: fc.nat({ max: PEERS.length - 1 }) }),
    },
  );
  const paramsArb = fc.record({
    quorum: fc.integer({ min: 1, max: 6 }),
    intervalMs: fc.integer({ min: 10, max: 200 }),
    toleranceFactor: fc.integer({ min: 2, max: 6 }),
  });

  it('agrees with counting fresh votes at every query, across refreshes that extend freshness', () => {
    // times are whole ms: at a fractional deadline `now - heard <= lease` and `now <= heard + lease`
    // can round apart by one ulp, a disagreement reported separately and of no practical weight
    const seen = { held: 0, lost: 0 };
    fc.assert(
      fc.property(
        paramsArb,
        fc.array(fc.option(peerArb, { nil: null }), { minLength: PEERS.length, maxLength: PEERS.length }),
        fc.integer({ min: 0, max: 1500 }),
        fc.array(evArb, { maxLength: 60, size: 'max' }),
        (pa, specs, start, evs) => {
          const p = params({
            quorum: pa.quorum,
            intervalMs: pa.intervalMs,
            toleranceMs: pa.intervalMs * pa.toleranceFactor,
          });
          const st = stepOn(p, start, SELF);
          specs.forEach((spec, i) => {
            if (spec === null) return;
            const uuid = PEERS[i]!;
            st.s.peers.set(uuid, record(uuid, { ...spec, name: NAMES[spec.name]! }));
          });
          const check = () => {
            const held = votesForSelf(st) >= p.quorum;
            expect(st.now <= leaseHoldsUntil(st)).toBe(held);
            seen[held ? 'held' : 'lost']++;
          };
          check();
          for (const ev of evs) {
            if (ev.kind === 'query') {
              st.now += ev.dt;
              check();
              continue;
            }
            const uuid = PEERS[ev.peer]!;
            const old = st.s.peers.get(uuid);
            if (ev.kind === 'leave') {
              st.s.peers.delete(uuid);
            } else if (old === undefined) {
              continue;
            } else if (ev.kind === 'direct') {
              // a packet from the peer: heard now, which is never earlier than last time
              st.now += ev.dt;
              st.s.peers.set(uuid, { ...old, lastDirectMs: Math.max(old.lastDirectMs, st.now) });
            } else if (ev.kind === 'attest') {
              // membership.ts only ever moves attestedMs later
              const heard = st.now - ev.ago;
              if (heard > old.attestedMs && heard > old.lastDirectMs)
                st.s.peers.set(uuid, { ...old, attestedMs: heard });
            } else {
              st.s.peers.set(uuid, { ...old, vote: ev.vote });
            }
            check();
          }
        },
      ),
      { numRuns: 300 },
    );
    // both outcomes must be common, or the equivalence was barely tested
    expect(Math.min(seen.held, seen.lost)).toBeGreaterThan(500);
  });

  it('returns the exact instant the quorum is lost, so the lord can wake just after it', () => {
    // two voters heard at 0 and 50, quorum 3: the lease rests on the older of them
    const p = params({ quorum: 3, intervalMs: 100, toleranceMs: 400 });
    const st = stepOn(p, 100, SELF);
    st.s.peers.set(uuidOf(2), record(uuidOf(2), { name: 'a', vote: SELF, lastDirectMs: 0 }));
    st.s.peers.set(uuidOf(3), record(uuidOf(3), { name: 'b', vote: SELF, lastDirectMs: 50 }));
    const until = leaseHoldsUntil(st);
    st.now = until;
    expect(votesForSelf(st)).toBe(3);
    st.now = until + 1e-6;
    expect(votesForSelf(st)).toBe(2);
    expect(st.now <= leaseHoldsUntil(st)).toBe(false);
  });
});

describe('attestations', () => {
  function reference(peers: PeerRecord[], now: number) {
    return [...peers]
      .sort((a, b) => b.lastDirectMs - a.lastDirectMs || (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0))
      .slice(0, MAX_ATTESTATIONS)
      .map((p) => ({ uuid: p.uuid, agoMs: Math.max(0, now - p.lastDirectMs) }));
  }

  it('equals sorting every peer by freshness, then uuid, and keeping the first 32', () => {
    // few distinct timestamps make ties the rule, and insertion order is whatever the array gives
    const peersArb = fc.uniqueArray(
      fc.record({ n: fc.integer({ min: 2, max: 500 }), lastDirectMs: fc.integer({ min: 0, max: 6 }) }),
      { selector: (x) => x.n, maxLength: 80, size: 'max' },
    );
    let truncated = 0;
    fc.assert(
      fc.property(peersArb, fc.integer({ min: 0, max: 10 }), (specs, now) => {
        if (specs.length > MAX_ATTESTATIONS) truncated++;
        const st = stepOn(params(), now);
        const recs = specs.map((x) => record(uuidOf(x.n), { lastDirectMs: x.lastDirectMs }));
        for (const r of recs) st.s.peers.set(r.uuid, r);
        const got = attestations(st);
        expect(got).toEqual(reference(recs, now));
        expect(got.length).toBe(Math.min(MAX_ATTESTATIONS, recs.length));
      }),
      { numRuns: 300 },
    );
    // the cut at 32 is the part the one-pass selection can get wrong
    expect(truncated).toBeGreaterThan(50);
  });
});

describe('the state contract', () => {
  it('step updates the state in place and returns it, so a shell holds one object per node', () => {
    const s0 = nativeMachine.init(params(), { now: 0, rand });
    const s1 = nativeMachine.step(s0, { type: 'start' }, { now: 0, rand }).state;
    expect(s1).toBe(s0);
    const r = nativeMachine.step(s1, { type: 'packet', packet: announce(uuidOf(2)) }, { now: 10, rand });
    expect(r.state).toBe(s0);
    expect(s0.peers.has(uuidOf(2))).toBe(true);
    expect(r.effects.some((e) => e.type === 'event' && e.event.type === 'node-joined')).toBe(true);
  });
});

describe('nativeView', () => {
  function snapshot(state: NativeState) {
    const t = state.peers;
    return {
      entries: [...t.entries()],
      size: t.size,
      membership: t.membership,
      votes: t.votes,
      floor: t.livenessFloor,
      claimants: [...t.claimants],
      best: t.bestCandidate(),
    };
  }

  it('leaves the state table as it was, even when peers have expired by the view time', () => {
    // peers heard at random times, viewed at a random later time: some expired, some not
    const specArb = fc.uniqueArray(
      fc.record({
        n: fc.integer({ min: 2, max: 60 }),
        at: fc.integer({ min: 0, max: 1000 }),
        lord: fc.boolean(),
      }),
      { selector: (x) => x.n, minLength: 1, maxLength: 12, size: 'max' },
    );
    const seen = { someExpired: 0, someAlive: 0 };
    fc.assert(
      fc.property(specArb, fc.integer({ min: 0, max: 1600 }), (specs, later) => {
        const p = params({ toleranceMs: 400, quorum: 2 });
        // Node ticks at every wake-up on the way, so no gap looks like a stall of our own
        const node = new Node(p);
        node.start();
        for (const x of [...specs].sort((a, b) => a.at - b.at)) {
          node.advanceTo(x.at);
          node.packet(announce(uuidOf(x.n), { valor: BigInt(x.n), vote: SELF, flags: { lord: x.lord } }));
        }
        const state = node.state;
        const viewAt = node.now + later;
        const before = snapshot(state);
        const view = nativeMachine.view(state, { now: viewAt, rand });
        const after = snapshot(state);
        expect(after.size).toBe(before.size);
        after.entries.forEach(([k, v], i) => {
          expect(k).toBe(before.entries[i]![0]);
          expect(v).toBe(before.entries[i]![1]);
        });
        expect(after).toEqual(before);

        // the view itself must still leave out whoever expired
        const alive = [...state.peers.values()]
          .filter((r) => viewAt - liveness(r) <= p.toleranceMs)
          .map((r) => r.uuid)
          .sort();
        if (alive.length < state.peers.size) seen.someExpired++;
        if (alive.length > 0) seen.someAlive++;
        expect(
          view.members
            .filter((m) => !m.self)
            .map((m) => m.uuid)
            .sort(),
        ).toEqual(alive);

        // and the state is still the live one: stepping it works and does the expiry for real
        node.advanceTo(viewAt);
        expect([...node.state.peers.keys()].sort()).toEqual(alive);
      }),
      { numRuns: 200 },
    );
    expect(Math.min(seen.someExpired, seen.someAlive)).toBeGreaterThan(20);
  });
});
