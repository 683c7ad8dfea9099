/**
 * The status view reads the live peer table without copying it. Its answers must be those of the
 * view that copied the table, dropping expired peers, before it read it: that one is kept here
 * as the reference and both run on random histories, peeked at moments between steps when
 * peers may have expired without a tick having removed them.
 */
import { describe, expect, it } from 'vitest';
import { membersSnapshot } from '../../src/legion/events.js';
import type { NativeState } from '../../src/legion/machine.js';
import { nativeMachine } from '../../src/legion/machine.js';
import { expiresAtMs } from '../../src/legion/membership.js';
import { PeerTable } from '../../src/legion/peers.js';
import { isDraining, memberInfo, type Step, selfInfo } from '../../src/legion/state.js';
import type { Ctx, LegionView, MemberInfo } from '../../src/legion/types.js';
import { quorumAgrees, senior, votesForSelf } from '../../src/legion/vote.js';
import { announce, Node, params, seededRand, uuidOf } from './helpers.js';

/** The lord as the copying view found it, from member snapshots of every claimant. */
function copyingLordInfo(st: Step): MemberInfo | null {
  const { s } = st;
  const claimants: MemberInfo[] = s.lord ? [selfInfo(st)] : [];
  for (const uuid of s.peers.claimants) {
    const p = s.peers.get(uuid);
    if (p !== undefined) claimants.push(memberInfo(p));
  }
  const voted = claimants.find((m) => m.uuid === s.vote);
  if (voted) return voted;
  let best: MemberInfo | null = null;
  for (const m of claimants) best = senior(best, m);
  return best;
}

/** The view as it was: a working copy of the state with a table of the unexpired peers. */
function copyingView(state: NativeState, ctx: Ctx): LegionView {
  const peers = new PeerTable();
  const st: Step = { s: { ...state, peers }, now: ctx.now, rand: ctx.rand, effects: [] };
  for (const p of state.peers.values()) if (ctx.now <= expiresAtMs(st, p)) peers.set(p.uuid, p);
  const members = membersSnapshot(st);
  const draining = isDraining(st);
  return {
    legion: state.params.legion,
    self: members.find((m) => m.self)!,
    lord: copyingLordInfo(st),
    epoch: state.maxEpoch,
    quorum: state.params.quorum,
    quorumMet: quorumAgrees(st),
    votes: votesForSelf(st),
    baseValor: state.baseValor,
    valor: state.params.valor,
    draining,
    drainingUntilMs: draining ? state.drainingUntilMs : null,
    members,
    phase: state.phase,
    stalls: state.stalls,
  };
}

const PEERS = 6;

function history(seed: number): { compared: number; withExpired: number } {
  const r = seededRand(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)]!;
  const quorum = pick([1, 2, 3, 4]);
  const node = new Node(params({ quorum, toleranceMs: 400, intervalMs: 100 }), seed);
  node.autoDrain = true;
  node.start();
  const uuids = Array.from({ length: PEERS }, (_, i) => uuidOf(i + 2));
  const votes = [null, uuidOf(1), ...uuids];
  let compared = 0;
  let withExpired = 0;
  for (let i = 0; i < 300; i++) {
    const x = r();
    if (x < 0.6) {
      const uuid = pick(uuids);
      node.packet(
        announce(uuid, {
          valor: pick([0n, 3n, 5n, 20n]),
          epoch: BigInt(Math.floor(r() * 4)),
          vote: pick(votes),
          flags: { lord: r() < 0.25, draining: r() < 0.1, dead: r() < 0.05 },
          name: r() < 0.2 ? 'shared' : `peer-${uuid.slice(-4)}`,
          seen: r() < 0.5 ? [{ uuid: pick(uuids), agoMs: Math.floor(r() * 300) }] : [],
        }),
      );
    } else if (x < 0.9) {
      node.advance(Math.floor(r() * 250));
    } else if (x < 0.95) {
      node.command({ type: 'stepdown', forMs: Math.floor(r() * 500) });
    } else {
      node.command({ type: 'set-valor', valor: pick([0n, 10n, 30n]) });
    }
    // peek later without stepping: peers may have expired that no tick has removed yet
    const ctx: Ctx = { now: node.now + Math.floor(r() * 700), rand: () => 0 };
    const sizeBefore = node.state.peers.size;
    const want = copyingView(node.state, ctx);
    const got = nativeMachine.view(node.state, ctx);
    expect(got).toEqual(want);
    expect(node.state.peers.size).toBe(sizeBefore);
    compared++;
    if (want.members.length < sizeBefore + 1) withExpired++;
  }
  return { compared, withExpired };
}

describe('nativeView reads the live table', () => {
  it('answers as the copying view did, on random histories', () => {
    let withExpired = 0;
    for (let seed = 1; seed <= 40; seed++) withExpired += history(seed).withExpired;
    // the histories must reach the case the copy existed for
    expect(withExpired).toBeGreaterThan(100);
  });
});
