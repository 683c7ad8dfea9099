/**
 * The peer table's incremental summaries against brute force over the same records, after every
 * operation of random histories: the summaries are only worth their speed if they never drift.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCandidates, fresher, isCandidatePeer, liveness, PeerTable } from '../../src/legion/peers.js';
import type { PeerRecord } from '../../src/legion/types.js';
import { uuidOf } from './helpers.js';

// few uuids and names, small valors: collisions and ties are where incremental upkeep goes wrong
const UUIDS = Array.from({ length: 8 }, (_, i) => uuidOf(i + 2));
const NAMES = ['alpha', 'beta', 'gamma'];

type Op =
  | {
      /** set: a new record replaces the member's; revise: a known member's record changes in place */
      kind: 'set' | 'revise';
      u: number;
      valor: bigint;
      lord: boolean;
      arbiter: boolean;
      draining: boolean;
      dead: boolean;
      vote: number | null;
      name: number;
      epoch: bigint;
      /** for a new record: where its times start; for a refresh: how far they move on */
      base: number;
      dDirect: number;
      dAttest: number | null;
    }
  | { kind: 'delete'; u: number }
  | { kind: 'clear' }
  | { kind: 'rescan' }
  /** a packet that changes nothing but timing: direct hearing moves later in place */
  | { kind: 'heard'; u: number; by: number }
  /** a bulk refresh (noteHeard): several members' direct hearing moves later at once */
  | { kind: 'bulk'; by: number[] };

const setOp = fc.record({
  kind: fc.constant('set' as const),
  u: fc.nat({ max: UUIDS.length - 1 }),
  valor: fc.bigInt({ min: 0n, max: 3n }),
  lord: fc.boolean(),
  arbiter: fc.boolean(),
  draining: fc.boolean(),
  dead: fc.boolean(),
  vote: fc.option(fc.nat({ max: UUIDS.length - 1 }), { nil: null }),
  name: fc.nat({ max: NAMES.length - 1 }),
  epoch: fc.bigInt({ min: 0n, max: 2n }),
  base: fc.integer({ min: 0, max: 1000 }),
  dDirect: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 })),
  dAttest: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
});

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: setOp },
  { weight: 4, arbitrary: setOp.map((op) => ({ ...op, kind: 'revise' as const })) },
  {
    weight: 2,
    arbitrary: fc.record({ kind: fc.constant('delete' as const), u: fc.nat({ max: UUIDS.length - 1 }) }),
  },
  { weight: 1, arbitrary: fc.constant({ kind: 'rescan' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'clear' as const }) },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('heard' as const),
      u: fc.nat({ max: UUIDS.length - 1 }),
      by: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 100 })),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bulk' as const),
      by: fc.array(fc.integer({ min: 0, max: 60 }), { minLength: UUIDS.length, maxLength: UUIDS.length }),
    }),
  },
);

/** How many attestations the tests ask the table for: fewer than the members, so some are left out. */
const K = 3;

function bruteFreshest(t: PeerTable, k: number): PeerRecord[] {
  return [...t.values()].sort((a, b) => (fresher(a, b) ? -1 : fresher(b, a) ? 1 : 0)).slice(0, k);
}

/** Times per uuid only move later, as receivePeer and attest guarantee. */
function nextRecord(op: Extract<Op, { kind: 'set' | 'revise' }>, old: PeerRecord | undefined): PeerRecord {
  const uuid = UUIDS[op.u]!;
  const lastDirectMs = old ? old.lastDirectMs + op.dDirect : op.base;
  let attestedMs: number;
  if (op.dAttest === null) attestedMs = old ? old.attestedMs : Number.NEGATIVE_INFINITY;
  else if (old && Number.isFinite(old.attestedMs)) attestedMs = old.attestedMs + op.dAttest;
  else attestedMs = lastDirectMs + op.dAttest;
  return {
    uuid,
    name: NAMES[op.name]!,
    valor: op.valor,
    epoch: op.epoch,
    vote: op.vote === null ? null : UUIDS[op.vote]!,
    flags: { lord: op.lord, arbiter: op.arbiter, draining: op.draining, dead: op.dead },
    scroll: new Uint8Array(),
    viewDigest: 0,
    firstHeardMs: old ? old.firstHeardMs : op.base,
    lastDirectMs,
    attestedMs,
  };
}

function bruteBest(t: PeerTable): PeerRecord | null {
  let best: PeerRecord | null = null;
  for (const p of t.values())
    if (isCandidatePeer(p) && (best === null || compareCandidates(p, best) > 0)) best = p;
  return best;
}

function bruteMinLiveness(t: PeerTable): number {
  let min = Number.POSITIVE_INFINITY;
  for (const p of t.values()) min = Math.min(min, liveness(p));
  return min;
}

function checkSummaries(t: PeerTable): void {
  expect(t.bestCandidate()).toBe(bruteBest(t));
  const lords = [...t.values()].filter((p) => p.flags.lord).map((p) => p.uuid);
  expect([...t.claimants].sort()).toEqual(lords.sort());
  expect(t.livenessFloor).toBeLessThanOrEqual(bruteMinLiveness(t));
  const tally = bruteTally(t);
  expect(new Map(t.tally.entries())).toEqual(tally);
  expect(t.tally.max).toBe(Math.max(0, ...tally.values()));
  expect(t.freshest(K).map((p) => p.uuid)).toEqual(bruteFreshest(t, K).map((p) => p.uuid));
}

function bruteTally(t: PeerTable): Map<string, number> {
  const tally = new Map<string, number>();
  for (const p of t.values()) if (p.vote !== null) tally.set(p.vote, (tally.get(p.vote) ?? 0) + 1);
  return tally;
}

function apply(t: PeerTable, op: Op): void {
  const beforeKeys = new Set(t.keys());
  const membership = t.membership;
  const votes = t.votes;
  let votesMustMove = false;
  switch (op.kind) {
    case 'set': {
      const uuid = UUIDS[op.u]!;
      const old = t.get(uuid);
      const rec = nextRecord(op, old);
      votesMustMove =
        old === undefined || old.vote !== rec.vote || old.name !== rec.name || old.epoch !== rec.epoch;
      t.set(uuid, rec);
      break;
    }
    case 'revise': {
      const old = t.get(UUIDS[op.u]!);
      if (old === undefined) break;
      const rec = nextRecord(op, old);
      votesMustMove = old.vote !== rec.vote || old.name !== rec.name || old.epoch !== rec.epoch;
      t.revise(old, rec, rec.lastDirectMs);
      expect(t.get(rec.uuid)).toBe(old);
      expect({ ...old, attestedMs: 0 }).toEqual({ ...rec, attestedMs: 0 });
      break;
    }
    case 'delete':
      votesMustMove = t.has(UUIDS[op.u]!);
      expect(t.delete(UUIDS[op.u]!)).toBe(votesMustMove);
      break;
    case 'clear':
      votesMustMove = t.size > 0;
      t.clear();
      expect(t.size).toBe(0);
      break;
    case 'heard': {
      const p = t.get(UUIDS[op.u]!);
      if (p === undefined) break;
      p.lastDirectMs += op.by;
      t.heardDirectly(p);
      break;
    }
    case 'bulk': {
      [...t.values()].forEach((p, i) => {
        p.lastDirectMs += op.by[i]!;
      });
      t.heardInBulk();
      break;
    }
    case 'rescan': {
      const exact = bruteMinLiveness(t);
      t.setLivenessFloor(exact);
      expect(t.livenessFloor).toBe(exact);
      break;
    }
  }
  const afterKeys = new Set(t.keys());
  const joinedOrLeft = beforeKeys.size !== afterKeys.size || [...beforeKeys].some((k) => !afterKeys.has(k));
  // the view digest is cached on `membership`, so a refresh must not bump it and a join or leave must
  expect(t.membership !== membership).toBe(joinedOrLeft);
  if (votesMustMove) expect(t.votes).not.toBe(votes);
  checkSummaries(t);
}

describe('PeerTable summaries', () => {
  it('stay equal to brute force over random histories', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 60, size: 'max' }), (ops) => {
        const t = new PeerTable();
        checkSummaries(t);
        for (const op of ops) apply(t, op);
      }),
      { numRuns: 300 },
    );
  });

  it('keep the liveness floor a bound after a rescan, as refreshes and leaves follow', () => {
    // a rescan (what expirePeers does) makes the floor tight, so any later newcomer with an older
    // time that failed to lower it, or a leave that raised it too far, shows at once
    const afterRescan = fc.array(
      fc.oneof(
        setOp,
        fc.record({ kind: fc.constant('delete' as const), u: fc.nat({ max: UUIDS.length - 1 }) }),
      ),
      { maxLength: 40, size: 'max' },
    );
    fc.assert(
      fc.property(
        fc.array(setOp, { minLength: 1, maxLength: 20, size: 'max' }),
        afterRescan,
        (fill, rest) => {
          const t = new PeerTable();
          for (const op of fill) apply(t, op);
          apply(t, { kind: 'rescan' });
          for (const op of rest) apply(t, op);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('promote a new best when the sitting best falls back, and find none when all leave the race', () => {
    const t = new PeerTable();
    const mk = (u: number, valor: bigint, draining = false) =>
      nextRecord(
        {
          kind: 'set',
          u,
          valor,
          lord: false,
          arbiter: false,
          draining,
          dead: false,
          vote: null,
          name: 0,
          epoch: 0n,
          base: 0,
          dDirect: 0,
          dAttest: null,
        },
        t.get(UUIDS[u]!),
      );
    t.set(UUIDS[0]!, mk(0, 3n));
    t.set(UUIDS[1]!, mk(1, 2n));
    expect(t.bestCandidate()?.uuid).toBe(UUIDS[0]);
    t.set(UUIDS[0]!, mk(0, 1n));
    expect(t.bestCandidate()?.uuid).toBe(UUIDS[1]);
    t.set(UUIDS[1]!, mk(1, 2n, true));
    expect(t.bestCandidate()?.uuid).toBe(UUIDS[0]);
    t.set(UUIDS[0]!, mk(0, 0n));
    expect(t.bestCandidate()).toBeNull();
  });
});

describe('PeerTable.cachedDigest', () => {
  it('recomputes only after a member joins or leaves', () => {
    const t = new PeerTable();
    let calls = 0;
    const compute = () => {
      calls++;
      return viewOf(t);
    };
    const rec = (u: number, lastDirectMs: number) =>
      nextRecord(
        {
          kind: 'set',
          u,
          valor: 1n,
          lord: false,
          arbiter: false,
          draining: false,
          dead: false,
          vote: u,
          name: u % NAMES.length,
          epoch: BigInt(lastDirectMs),
          base: lastDirectMs,
          dDirect: 0,
          dAttest: null,
        },
        undefined,
      );

    expect(t.cachedDigest(compute)).toBe(viewOf(t));
    expect(calls).toBe(1);
    expect(t.cachedDigest(compute)).toBe(viewOf(t));
    expect(calls).toBe(1);

    t.set(UUIDS[0]!, rec(0, 10));
    t.set(UUIDS[1]!, rec(1, 10));
    expect(t.cachedDigest(compute)).toBe(viewOf(t));
    expect(calls).toBe(2);

    // refreshes, even of vote and epoch, leave the membership and so the digest alone
    t.set(UUIDS[0]!, rec(0, 20));
    t.set(UUIDS[1]!, { ...rec(1, 30), vote: UUIDS[0]! });
    expect(t.cachedDigest(compute)).toBe(viewOf(t));
    expect(calls).toBe(2);

    expect(t.delete(UUIDS[5]!)).toBe(false);
    expect(t.cachedDigest(compute)).toBe(viewOf(t));
    expect(calls).toBe(2);

    t.delete(UUIDS[0]!);
    expect(t.cachedDigest(compute)).toBe(viewOf(t));
    expect(calls).toBe(3);
    expect(t.cachedDigest(compute)).toBe(viewOf(t));
    expect(calls).toBe(3);

    // a leave and a rejoin between two reads still changed the membership twice
    t.delete(UUIDS[1]!);
    t.set(UUIDS[1]!, rec(1, 40));
    t.cachedDigest(compute);
    expect(calls).toBe(4);
  });
});

/** A stand-in digest that differs per member set, so a stale cached value would be caught. */
function viewOf(t: PeerTable): number {
  let h = t.size;
  for (const k of [...t.keys()].sort()) h = (h * 31 + Number.parseInt(k.slice(-4), 16)) | 0;
  return h;
}
