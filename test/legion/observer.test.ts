/** Observers: they follow the legion, never vote or stand, and nobody counts them. */
import { describe, expect, it } from 'vitest';
import { NativeDecoder, NativeEncoder } from '../../src/protocol/native.js';
import { announce, eventsOf, Node, params, sendsOf, uuidOf } from './helpers.js';

const SELF = uuidOf(1);
const A = uuidOf(2);
const O = uuidOf(3);

function feed(n: Node, until: number, peers: () => Array<Parameters<typeof announce>>): void {
  while (n.now + 100 <= until) {
    n.advance(100);
    for (const [uuid, spec] of peers()) n.packet(announce(uuid, { epoch: n.state.maxEpoch, ...spec }));
  }
  n.advanceTo(until);
}

describe('an observer node', () => {
  it('knows the lord and every scroll, but never votes, stands or runs lord hooks', () => {
    const n = new Node(params({ valor: 0n, observer: true, quorum: 1 }));
    n.start();
    const scroll = new TextEncoder().encode('addr=10.0.0.2');
    feed(n, 2000, () => [[A, { valor: 5n, vote: A, flags: { lord: true }, epoch: 1n, scroll }]]);
    expect(n.lord).toBe(false);
    expect(n.state.vote).toBeNull();
    expect(eventsOf(n.effects, 'lord')).toEqual([]);
    const v = n.view();
    expect(v.lord?.uuid).toBe(A);
    expect(v.self.observer).toBe(true);
    expect(v.self.arbiter).toBe(false);
    expect(v.members.find((m) => m.uuid === A)?.scroll).toEqual(scroll);
    const sent = sendsOf(n.effects);
    expect(sent.length).toBeGreaterThan(0);
    for (const a of sent) {
      expect(a.vote).toBeNull();
      expect(a.flags).toMatchObject({ observer: true, lord: false });
    }
  });

  it('alone, it never takes the title', () => {
    const n = new Node(params({ valor: 0n, observer: true }));
    n.start();
    n.advanceTo(5000);
    expect(n.lord).toBe(false);
    expect(eventsOf(n.effects, 'lord')).toEqual([]);
  });
});

describe('a voter beside an observer', () => {
  it('with quorum 2 an observer that sends a vote and attestations still counts for nothing', () => {
    const n = new Node(params({ quorum: 2 }));
    n.start();
    // a misbehaving observer: it votes for us and claims the title, flagged as an observer
    feed(n, 3000, () => [[O, { valor: 0n, vote: SELF, flags: { observer: true, lord: true }, seen: [] }]]);
    expect(n.lord).toBe(false);
    const v = n.view();
    expect(v.votes).toBe(1);
    expect(v.lord).toBeNull();
    expect(v.members.find((m) => m.uuid === O)).toMatchObject({ observer: true, vote: null, lord: false });
  });

  it('an observer never counts as a candidate, whatever valor it announces', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    feed(n, 2000, () => [[O, { valor: 99n, flags: { observer: true } }]]);
    expect(n.lord).toBe(true);
    expect(n.state.vote).toBe(SELF);
  });

  it('does not let an observer keep a silent member alive by attestation', () => {
    const n = new Node(params());
    n.start();
    n.packet(announce(A, { valor: 5n }));
    // A falls silent; only the observer claims to hear it
    feed(n, 3000, () => [[O, { valor: 0n, flags: { observer: true }, seen: [{ uuid: A, agoMs: 0 }] }]]);
    expect(n.view().members.some((m) => m.uuid === A)).toBe(false);
  });
});

describe('the observer flag on the wire', () => {
  it('round-trips, and is absent when not set', () => {
    const enc = new NativeEncoder({ legion: 'test', keys: null, wallClock: () => 1000 });
    const dec = new NativeDecoder({ legion: 'test', keys: null });
    const obs = dec.decode(enc.encode(announce(O, { valor: 0n, flags: { observer: true } })), 1000).announce;
    expect(obs.flags.observer).toBe(true);
    const plain = dec.decode(enc.encode(announce(A)), 1000).announce;
    expect(plain.flags.observer).toBeUndefined();
  });
});

describe('an observer follows the lord by events', () => {
  it('gets lord-changed and scroll-changed like any member', () => {
    const n = new Node(params({ valor: 0n, observer: true }));
    n.autoDrain = true;
    n.start();
    const scroll = new TextEncoder().encode('addr=10.0.0.9:6379');
    const lordAnn = (s: Uint8Array) =>
      announce(A, { valor: 5n, vote: A, flags: { lord: true }, epoch: 2n, scroll: s });
    const changed = eventsOf(n.packet(lordAnn(scroll)), 'lord-changed');
    expect(changed.map((e) => [e.lord?.uuid, e.epoch])).toEqual([[A, 2n]]);
    n.advance(50);
    const moved = new TextEncoder().encode('addr=10.0.0.9:6380');
    const sc = eventsOf(n.packet(lordAnn(moved)), 'scroll-changed');
    expect(sc.map((e) => e.member?.uuid)).toEqual([A]);
  });
});
