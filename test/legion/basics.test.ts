import { describe, expect, it } from 'vitest';
import { MAX_ATTESTATIONS, viewDigest } from '../../src/legion/announce.js';
import { compareCandidates } from '../../src/legion/peers.js';
import { announce, eventsOf, kinds, Node, params, sendsOf, uuidOf } from './helpers.js';

const SELF = uuidOf(1);

describe('compareCandidates', () => {
  it('orders by valor, then by uuid text', () => {
    expect(compareCandidates({ valor: 2n, uuid: uuidOf(1) }, { valor: 1n, uuid: uuidOf(9) })).toBeGreaterThan(
      0,
    );
    expect(compareCandidates({ valor: 1n, uuid: uuidOf(1) }, { valor: 1n, uuid: uuidOf(9) })).toBeLessThan(0);
    expect(compareCandidates({ valor: 1n, uuid: uuidOf(5) }, { valor: 1n, uuid: uuidOf(5) })).toBe(0);
    const a = 'ffffffff-0000-4000-8000-000000000000';
    const b = '0fffffff-ffff-4fff-bfff-ffffffffffff';
    expect(compareCandidates({ valor: 1n, uuid: a }, { valor: 1n, uuid: b })).toBeGreaterThan(0);
  });

  it('handles valors beyond 2^53', () => {
    const big = (1n << 63n) + 1n;
    expect(compareCandidates({ valor: big, uuid: uuidOf(1) }, { valor: big - 1n, uuid: uuidOf(2) })).toBe(1);
  });
});

describe('viewDigest', () => {
  it('ignores order and distinguishes membership', () => {
    const u = [uuidOf(1), uuidOf(2), uuidOf(3)];
    expect(viewDigest(u)).toBe(viewDigest([...u].reverse()));
    expect(viewDigest(u)).not.toBe(viewDigest(u.slice(0, 2)));
    expect(viewDigest(['ab', 'c'])).not.toBe(viewDigest(['a', 'bc']));
    expect(Number.isInteger(viewDigest(u)) && viewDigest(u) >= 0 && viewDigest(u) < 2 ** 32).toBe(true);
  });

  it('is FNV-1a 32 (empty input gives the offset basis)', () => {
    expect(viewDigest([])).toBe(0x811c9dc5);
  });
});

describe('start and announces', () => {
  it('does nothing before start', () => {
    const n = new Node();
    expect(n.input({ type: 'tick' })).toEqual([]);
    expect(n.packet(announce(uuidOf(2)))).toEqual([]);
    expect(n.wakeAt).toBe(Number.POSITIVE_INFINITY);
    expect(n.view().phase).toBe('starting');
  });

  it('start emits setup, join (quorum 1) and an announce at once', () => {
    const n = new Node();
    const fx = n.start();
    expect(kinds(fx)).toEqual(['event:setup', 'event:join', 'send']);
    const [a] = sendsOf(fx);
    expect(a).toMatchObject({ legion: 'test', uuid: SELF, name: 'self', valor: 10n, vote: SELF, epoch: 0n });
    expect(a?.flags).toEqual({ lord: false, arbiter: false, dead: false, draining: false });
    expect(a?.viewDigest).toBe(viewDigest([SELF]));
    expect(n.view().phase).toBe('running');
  });

  it('as lord, answers a new member within a tenth of an interval, once; a follower does not', () => {
    const n = new Node(params({ toleranceMs: 10_000 }));
    n.start();
    n.advanceTo(160);
    expect(n.lord).toBe(true);
    n.packet(announce(uuidOf(2)));
    expect(n.wakeAt).toBeLessThanOrEqual(170);
    n.advanceTo(170);
    expect(sendsOf(n.last)).toHaveLength(1);
    // the same member again is not news: the periodic schedule resumes
    n.packet(announce(uuidOf(2)));
    expect(n.wakeAt).toBeGreaterThanOrEqual(260);

    // a follower leaves newcomers to its periodic announce, which comes within their grace
    const f = new Node(params({ valor: 1n, toleranceMs: 10_000 }));
    f.start();
    f.packet(announce(uuidOf(2), { valor: 5n }));
    f.advanceTo(160);
    expect(f.lord).toBe(false);
    f.packet(announce(uuidOf(3)));
    expect(f.wakeAt).toBeGreaterThanOrEqual(200);
  });

  it('announces every interval without jitter, and within [1-j, 1] intervals with jitter', () => {
    const n = new Node(params({ toleranceMs: 10_000 }));
    n.start();
    const times: number[] = [];
    for (let t = 1; t <= 1000; t++) {
      n.advanceTo(t);
      if (sendsOf(n.last).length > 0 && n.now === t && n.wakeAt > t) times.push(t);
    }
    expect(times.filter((t) => t % 100 === 0 && t > 150)).toEqual([
      200, 300, 400, 500, 600, 700, 800, 900, 1000,
    ]);

    const j = new Node(params({ jitter: 0.5 }), 7);
    j.start();
    // Past the startup grace, the only announces left are periodic ones.
    j.advanceTo(200);
    let last = j.state.nextAnnounceMs;
    j.advanceTo(last);
    for (let i = 0; i < 50; i++) {
      const next = j.state.nextAnnounceMs;
      expect(next - last).toBeGreaterThanOrEqual(50);
      expect(next - last).toBeLessThanOrEqual(100);
      j.advanceTo(next);
      last = next;
    }
  });

  it('ignores its own packets and other legions', () => {
    const n = new Node();
    n.start();
    n.packet(announce(SELF, { valor: 99n }));
    n.packet(announce(uuidOf(2), { legion: 'other', valor: 99n }));
    expect(n.state.peers.size).toBe(0);
  });

  it('never asks to be woken at or before now unless due', () => {
    const n = new Node(params({ jitter: 0.3, preemptDelayMs: 250, lordDelayMs: 120 }), 3);
    n.start();
    for (let t = 0; t < 3000; t += 37) {
      n.packet(announce(uuidOf(2 + (t % 3)), { valor: BigInt(t % 20), vote: SELF }));
      n.advance(37);
      expect(n.wakeAt).toBeGreaterThan(n.now - 37);
    }
  });
});

describe('membership', () => {
  it('emits node-joined on first direct packet and node-left on timeout', () => {
    const n = new Node();
    n.start();
    const peer = uuidOf(2);
    const fx = n.packet(announce(peer));
    const joined = eventsOf(fx, 'node-joined');
    expect(joined).toHaveLength(1);
    expect(joined[0]?.member?.uuid).toBe(peer);
    expect(joined[0]?.members.map((m) => m.uuid)).toContain(peer);
    expect(eventsOf(n.packet(announce(peer)), 'node-joined')).toHaveLength(0);
    n.advanceTo(400);
    expect(n.state.peers.has(peer)).toBe(true);
    const fx2 = n.advanceTo(402);
    const left = eventsOf(fx2, 'node-left');
    expect(left).toHaveLength(1);
    expect(left[0]?.reason).toBe('timeout');
    expect(left[0]?.members.map((m) => m.uuid)).not.toContain(peer);
    expect(n.state.peers.has(peer)).toBe(false);
  });

  it('attestation keeps a known member alive but does not make its vote fresh', () => {
    const n = new Node(params({ quorum: 2 }));
    n.start();
    const a = uuidOf(2);
    const b = uuidOf(3);
    n.packet(announce(a, { valor: 1n, vote: SELF }));
    for (let t = 100; t <= 1000; t += 100) {
      n.advanceTo(t);
      n.packet(
        announce(b, { valor: 1n, vote: SELF, epoch: n.state.maxEpoch, seen: [{ uuid: a, agoMs: 10 }] }),
      );
    }
    expect(n.state.peers.has(a)).toBe(true);
    expect(n.view().members.find((m) => m.uuid === a)?.lastSeenMs).toBe(990);
    // a's vote is stale (heard directly only at 0), b's is fresh: 2 votes with self.
    expect(n.view().votes).toBe(2);
    expect(n.lord).toBe(true);
  });

  it('attestation alone never creates a member, and ignores attestations about self', () => {
    const n = new Node();
    n.start();
    n.packet(
      announce(uuidOf(3), {
        seen: [
          { uuid: uuidOf(4), agoMs: 0 },
          { uuid: SELF, agoMs: 0 },
        ],
      }),
    );
    expect([...n.state.peers.keys()]).toEqual([uuidOf(3)]);
  });

  it('a death announce removes at once and repeated death announces do not resurrect', () => {
    const n = new Node();
    n.start();
    const a = uuidOf(2);
    const b = uuidOf(3);
    n.packet(announce(a));
    n.packet(announce(b));
    const fx = n.packet(announce(a, { flags: { dead: true } }));
    const left = eventsOf(fx, 'node-left');
    expect(left.map((e) => [e.member?.uuid, e.reason])).toEqual([[a, 'death']]);
    expect(eventsOf(n.packet(announce(a, { flags: { dead: true } })))).toHaveLength(0);
    // A stale attestation from b about a does not bring it back.
    n.packet(announce(b, { seen: [{ uuid: a, agoMs: 0 }] }));
    expect(n.state.peers.has(a)).toBe(false);
    // A new direct, non-dead packet does.
    expect(eventsOf(n.packet(announce(a)), 'node-joined')).toHaveLength(1);
  });

  it('announces attestations freshest first, at most MAX_ATTESTATIONS', () => {
    const n = new Node(params({ toleranceMs: 100_000 }));
    n.start();
    for (let i = 0; i < 40; i++) {
      n.advance(1);
      n.packet(announce(uuidOf(100 + i)));
    }
    n.advance(1);
    const fx = n.command({ type: 'set-scroll', scroll: new Uint8Array([1]) });
    const [a] = sendsOf(fx);
    expect(a?.seen).toHaveLength(MAX_ATTESTATIONS);
    expect(a?.seen[0]).toEqual({ uuid: uuidOf(139), agoMs: 1 });
    const last = MAX_ATTESTATIONS - 1;
    expect(a?.seen[last]).toEqual({ uuid: uuidOf(139 - last), agoMs: 1 + last });
    expect(a?.viewDigest).toBe(viewDigest([SELF, ...Array.from({ length: 40 }, (_, i) => uuidOf(100 + i))]));
  });
});
