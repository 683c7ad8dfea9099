/** Heartbeats taken in bulk (noteHeard, src/legion/membership.ts): what it changes, and what it cannot change. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sameAnnounced, sameDecisive } from '../../src/legion/announce.js';
import { heardDueAfter, noteHeard } from '../../src/legion/membership.js';
import { leaseMs } from '../../src/legion/peers.js';
import { announce, kinds, Node, params, uuidOf } from './helpers.js';

/**
 * A node with quorum 3 and members heard at the given times (ms), then left alone. Members vote
 * for the node where `forMe` says so (all by default: it becomes lord), else for the first member.
 */
function legion(heardAt: number[], quorum = 3, forMe: boolean[] = []): Node {
  const node = new Node(params({ valor: 50n, quorum }));
  node.start();
  const me = node.p.uuid;
  // times are increasing so the node's clock only moves forward
  const order = heardAt.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t);
  for (const { t, i } of order) {
    node.advanceTo(t);
    const vote = (forMe[i] ?? true) ? me : uuidOf(100);
    node.packet(announce(uuidOf(100 + i), { vote, epoch: node.state.maxEpoch }));
  }
  return node;
}

describe('noteHeard', () => {
  it('moves direct hearing later, never earlier and never past now', () => {
    const node = legion([10, 20, 30]);
    node.advanceTo(40);
    const before = [...node.state.peers.values()].map((p) => p.lastDirectMs);
    const times = new Map([
      [uuidOf(100), 35],
      [uuidOf(101), 5],
      [uuidOf(102), 99],
    ]);
    noteHeard(node.state, (u) => times.get(u) ?? Number.NEGATIVE_INFINITY, node.now);
    const after = [...node.state.peers.values()].map((p) => p.lastDirectMs);
    expect(before).toEqual([10, 20, 30]);
    expect(after).toEqual([35, 20, 30]);
  });

  it('returns the earliest voter for this node plus the lease, and sets an exact liveness floor', () => {
    const node = legion([10, 20, 30]);
    node.advanceTo(40);
    const due = noteHeard(node.state, () => Number.NEGATIVE_INFINITY, node.now);
    expect(due).toBe(10 + Math.min(leaseMs(node.p), node.p.toleranceMs));
    expect(node.state.peers.livenessFloor).toBe(10);
  });

  it('gives a member voting for someone else a tolerance, and a new vote for us a lease', () => {
    const node = legion([10, 20, 30], 3, [false, true, false]);
    node.advanceTo(40);
    const due = noteHeard(node.state, () => Number.NEGATIVE_INFINITY, node.now);
    const lease = Math.min(leaseMs(node.p), node.p.toleranceMs);
    expect(due).toBe(Math.min(10 + node.p.toleranceMs, 20 + lease));
    const forOther = announce(uuidOf(100), { vote: uuidOf(100) });
    expect(heardDueAfter(node.state, due, forOther, 50)).toBe(due);
    const forMe = announce(uuidOf(100), { vote: node.p.uuid });
    expect(heardDueAfter(node.state, 9999, forMe, 50)).toBe(50 + lease);
  });

  it('hands the freshest members to the table, as a scan would find them', () => {
    const node = legion([10, 20, 30, 40, 50, 60, 70, 80, 90, 100]);
    node.advanceTo(120);
    noteHeard(node.state, (u) => (u === uuidOf(100) ? 115 : Number.NEGATIVE_INFINITY), node.now);
    const bulk = node.state.peers.freshest(8).map((p) => p.uuid);
    node.state.peers.heardInBulk();
    expect(node.state.peers.freshest(8).map((p) => p.uuid)).toEqual(bulk);
    expect(bulk[0]).toBe(uuidOf(100));
    expect(bulk).toHaveLength(8);
  });

  it('refreshed only when due, a table decides as one that takes every heartbeat', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            heard: fc.integer({ min: 0, max: 300 }),
            first: fc.integer({ min: 0, max: 400 }),
            period: fc.integer({ min: 1, max: 60 }),
            forMe: fc.boolean(),
          }),
          { minLength: 2, maxLength: 6 },
        ),
        fc.constantFrom(2, 3),
        // a member that moves its vote to us by a packet with news, and acknowledges our proposals
        fc.option(fc.record({ who: fc.nat(5), after: fc.integer({ min: 0, max: 1200 }) })),
        (members, quorum, switcher) => {
          const heard = members.map((m) => m.heard);
          const forMe = members.map((m) => m.forMe);
          // a is refreshed as the simulator does, only when due; b takes every heartbeat as it comes
          const a = legion(heard, quorum, forMe);
          const b = legion(heard, quorum, forMe);
          const start = a.now;
          const beatsOf = (i: number, now: number) => {
            const t0 = start + members[i]!.first;
            if (now < t0) return Number.NEGATIVE_INFINITY;
            const period = members[i]!.period;
            return t0 + Math.floor((now - t0) / period) * period;
          };
          const heardAt = (now: number) => (u: string) => {
            const i = heard.findIndex((_, k) => uuidOf(100 + k) === u);
            return i < 0 ? Number.NEGATIVE_INFINITY : beatsOf(i, now);
          };
          const at = start + 400;
          a.advanceTo(at);
          b.advanceTo(at);
          let due = noteHeard(a.state, heardAt(at), at);
          const who = switcher === null ? -1 : switcher.who % members.length;
          const switchAt = switcher === null ? Number.POSITIVE_INFINITY : at + switcher.after;
          let told: bigint | null = null;
          for (let t = at + 5; t <= at + 2000; t += 5) {
            if (t >= due) due = noteHeard(a.state, heardAt(t), t);
            noteHeard(b.state, heardAt(t), t);
            const ea = kinds(a.advanceTo(t)).filter((k) => k !== 'send');
            const eb = kinds(b.advanceTo(t)).filter((k) => k !== 'send');
            // the switcher votes for us, then announces each epoch we propose (news each time)
            if (t >= switchAt && told !== a.state.maxEpoch) {
              told = a.state.maxEpoch;
              const news = announce(uuidOf(100 + who), { vote: a.p.uuid, epoch: told, valor: 7n });
              ea.push(...kinds(a.packet(news)).filter((k) => k !== 'send'));
              eb.push(...kinds(b.packet(news)).filter((k) => k !== 'send'));
              due = heardDueAfter(a.state, due, news, t);
            }
            expect(ea).toEqual(eb);
            expect(a.state.lord).toBe(b.state.lord);
            expect(a.state.vote).toBe(b.state.vote);
            expect(a.state.peers.size).toBe(b.state.peers.size);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('sameAnnounced and sameDecisive', () => {
  it('a changed view digest is a change to store but not one to act on', () => {
    const a = announce(uuidOf(2), { vote: uuidOf(1) });
    const b = { ...a, viewDigest: a.viewDigest + 1, seen: [{ uuid: uuidOf(3), agoMs: 5 }] };
    expect(sameAnnounced(a, b)).toBe(false);
    expect(sameDecisive(a, b)).toBe(true);
    for (const c of [
      { ...a, vote: uuidOf(3) },
      { ...a, epoch: 1n },
      { ...a, valor: 6n },
      { ...a, flags: { ...a.flags, lord: true } },
      { ...a, scroll: new Uint8Array([1]) },
    ]) {
      expect(sameDecisive(a, c)).toBe(false);
    }
  });
});
