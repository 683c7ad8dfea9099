/** Heartbeats taken in bulk (src/legion/heard.ts): what it changes, and what it cannot change. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { noteHeard, sameAnnounced, sameDecisive } from '../../src/legion/heard.js';
import { leaseMs } from '../../src/legion/liveness.js';
import { announce, kinds, Node, params, uuidOf } from './helpers.js';

/** A lord with quorum 3 and `n` voters heard at the given times (ms), then left alone. */
function legion(heardAt: number[], quorum = 3): Node {
  const node = new Node(params({ valor: 50n, quorum }));
  node.start();
  const me = node.p.uuid;
  // everyone votes for us; times are increasing so the node's clock only moves forward
  const order = heardAt.map((t, i) => ({ t, i })).sort((a, b) => a.t - b.t);
  for (const { t, i } of order) {
    node.advanceTo(t);
    node.packet(announce(uuidOf(100 + i), { vote: me, epoch: node.state.maxEpoch }));
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

  it('returns the earliest direct hearing plus the lease, and sets an exact liveness floor', () => {
    const node = legion([10, 20, 30]);
    node.advanceTo(40);
    const due = noteHeard(node.state, () => Number.NEGATIVE_INFINITY, node.now);
    expect(due).toBe(10 + Math.min(leaseMs(node.p), node.p.toleranceMs));
    expect(node.state.peers.livenessFloor).toBe(10);
  });

  it('refuses a state that was already stepped', () => {
    const node = legion([10]);
    const old = node.state;
    node.advance(1);
    node.input({ type: 'tick' });
    expect(() => noteHeard(old, () => 0, node.now)).toThrow(
      expect.objectContaining({ code: 'ERR_STATE_CONSUMED' }),
    );
  });

  it('until the instant it returns, later heartbeats left untaken change no decision', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 300 }), { minLength: 2, maxLength: 6 }),
        fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 6, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 50 }), { minLength: 6, maxLength: 6 }),
        (heard, first, period) => {
          // a takes heartbeats once; b takes every later one as it comes (what a packet would do)
          const a = legion(heard);
          const b = legion(heard);
          const start = a.now;
          const beatsOf = (i: number) => (now: number) => {
            const t0 = start + first[i]!;
            if (now < t0) return Number.NEGATIVE_INFINITY;
            return t0 + Math.floor((now - t0) / period[i]!) * period[i]!;
          };
          const heardAt = (now: number) => (u: string) => {
            const i = heard.findIndex((_, k) => uuidOf(100 + k) === u);
            return i < 0 ? Number.NEGATIVE_INFINITY : beatsOf(i)(now);
          };
          const at = start + 400;
          a.advanceTo(at);
          b.advanceTo(at);
          const due = noteHeard(a.state, heardAt(at), at);
          noteHeard(b.state, heardAt(at), at);
          for (let t = at + 5; t < due; t += 5) {
            noteHeard(b.state, heardAt(t - 5), t - 5);
            const ea = kinds(a.advanceTo(t)).filter((k) => k !== 'send');
            const eb = kinds(b.advanceTo(t)).filter((k) => k !== 'send');
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
