import { describe, expect, it } from 'vitest';
import { leaseMs } from '../../src/legion/peers.js';
import { announce, eventsOf, kinds, Node, params, sendsOf, uuidOf } from './helpers.js';

const SELF = uuidOf(1);
const A = uuidOf(2);
const B = uuidOf(3);

/** Feeds the peers' announces every 100 ms from the node's current time up to `until`. */
function feed(n: Node, until: number, peers: () => Parameters<typeof announce>[]): void {
  while (n.now + 100 <= until) {
    n.advance(100);
    // the peers echo the highest epoch the node announces, as real voters do (acknowledging it)
    for (const [uuid, spec] of peers()) n.packet(announce(uuid, { epoch: n.state.maxEpoch, ...spec }));
  }
  n.advanceTo(until);
}

describe('becoming lord', () => {
  it('waits for the startup grace, then becomes lord with epoch 1 and announces at once', () => {
    const n = new Node();
    n.start();
    n.advanceTo(149);
    expect(n.lord).toBe(false);
    const fx = n.advanceTo(150);
    expect(n.lord).toBe(true);
    expect(kinds(fx)).toEqual(['event:lord', 'send', 'event:lord-changed']);
    const [lord] = eventsOf(fx, 'lord');
    expect(lord?.epoch).toBe(1n);
    expect(lord?.lord?.uuid).toBe(SELF);
    expect(sendsOf(fx)[0]?.flags.lord).toBe(true);
    expect(sendsOf(fx)[0]?.epoch).toBe(1n);
  });

  it('a newcomer hears the sitting lord during its grace and votes for the better of the two', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    n.packet(announce(A, { valor: 5n, vote: A, flags: { lord: true }, epoch: 3n }));
    feed(n, 1000, () => [[A, { valor: 5n, vote: A, flags: { lord: true }, epoch: 3n }]]);
    expect(n.lord).toBe(false);
    expect(n.state.vote).toBe(A);
    expect(n.view().lord?.uuid).toBe(A);
  });

  it('hands over through a release when a better candidate appears (preempt, no delay)', () => {
    const n = new Node();
    n.start();
    n.advanceTo(200);
    expect(n.lord).toBe(true);
    const fx = n.packet(announce(A, { valor: 11n, vote: A }));
    expect(n.lord).toBe(false);
    expect(kinds(fx)).toEqual([
      'event:node-joined',
      'event:unlord',
      'await-hooks',
      'send',
      'event:lord-changed',
    ]);
    expect(eventsOf(fx, 'unlord')[0]?.reason).toBe('preempted');
    // the claim stands until the shell reports its work stopped and the unlord hooks done
    expect(sendsOf(fx)[0]).toMatchObject({ vote: A, flags: { lord: true } });
    const done = n.input({ type: 'hooks-drained' });
    expect(sendsOf(done)[0]).toMatchObject({ vote: A, flags: { lord: false } });
  });

  it('does not take the title while a live member still claims it', () => {
    const n = new Node(params({ valor: 50n }));
    n.start();
    // A is worse, but its announces still claim the title (say, its release is under way)
    feed(n, 1000, () => [[A, { valor: 20n, vote: n.p.uuid, flags: { lord: true } }]]);
    expect(n.lord).toBe(false);
    n.packet(announce(A, { valor: 20n, vote: n.p.uuid }));
    expect(n.lord).toBe(true);
  });

  it('breaks valor ties by the greater uuid', () => {
    const n = new Node(params({ uuid: uuidOf(5) }));
    n.start();
    n.packet(announce(uuidOf(4), { valor: 10n }));
    n.packet(announce(uuidOf(6), { valor: 10n }));
    expect(n.state.vote).toBe(uuidOf(6));
  });
});

describe('arbiters and quorum', () => {
  it('an arbiter never becomes lord and announces the arbiter flag', () => {
    const n = new Node(params({ valor: 0n }));
    const fx = n.start();
    expect(sendsOf(fx)[0]?.flags.arbiter).toBe(true);
    expect(sendsOf(fx)[0]?.vote).toBeNull();
    n.advanceTo(1000);
    expect(n.lord).toBe(false);
    n.packet(announce(A, { valor: 0n }));
    expect(n.state.vote).toBeNull();
    n.packet(announce(B, { valor: 3n }));
    expect(n.state.vote).toBe(B);
    expect(n.lord).toBe(false);
  });

  it('needs quorum votes, counts arbiters, and loses the lease when a voter falls silent', () => {
    const n = new Node(params({ quorum: 3 }));
    n.start();
    feed(n, 300, () => [[A, { valor: 0n, vote: SELF }]]);
    expect(n.lord).toBe(false);
    expect(n.view().votes).toBe(2);
    expect(n.view().quorumMet).toBe(false);
    expect(eventsOf(n.effects, 'join')).toHaveLength(0);
    feed(n, 600, () => [
      [A, { valor: 0n, vote: SELF }],
      [B, { valor: 1n, vote: SELF }],
    ]);
    expect(n.lord).toBe(true);
    expect(eventsOf(n.effects, 'join')).toHaveLength(1);
    const joinIdx = n.effects.findIndex((e) => e.type === 'event' && e.event.type === 'join');
    const lordIdx = n.effects.findIndex((e) => e.type === 'event' && e.event.type === 'lord');
    expect(joinIdx).toBeLessThan(lordIdx);
    // B keeps announcing but now votes elsewhere: the lease breaks on that packet.
    n.advance(50);
    const fx = n.packet(announce(B, { valor: 1n, vote: A }));
    expect(n.lord).toBe(false);
    expect(eventsOf(fx, 'unlord')[0]?.reason).toBe('lease');
    // the claim stands, unchanged, until the work has stopped (the release), then goes at once
    expect(kinds(fx)).toContain('await-hooks');
    expect(sendsOf(fx).every((a) => a.flags.lord)).toBe(true);
    expect(sendsOf(n.input({ type: 'hooks-drained' }))[0]?.flags.lord).toBe(false);
  });

  it('loses the lease when a voter is only attested, no longer heard directly', () => {
    const n = new Node(params({ quorum: 3 }));
    n.start();
    feed(n, 600, () => [
      [A, { valor: 0n, vote: SELF }],
      [B, { valor: 1n, vote: SELF }],
    ]);
    expect(n.lord).toBe(true);
    // From now on only A is heard; it attests B, which keeps B a member but not a voter.
    const before = n.effects.length;
    feed(n, 1200, () => [[A, { valor: 0n, vote: SELF, seen: [{ uuid: B, agoMs: 5 }] }]]);
    const fx = n.effects.slice(before);
    expect(n.lord).toBe(false);
    expect(n.state.peers.has(B)).toBe(true);
    const unlord = eventsOf(fx, 'unlord');
    expect(unlord.map((e) => e.reason)).toEqual(['lease']);
    // others still hear B, so its last direct vote holds until the tolerance, not just the lease
    expect(unlord[0]?.atMs).toBe(600 + 400 + 1);
  });

  it('a lord cut off from every voter steps down at the lease, before they could elect another', () => {
    const n = new Node(params({ quorum: 3 }));
    n.start();
    feed(n, 600, () => [
      [A, { valor: 0n, vote: SELF }],
      [B, { valor: 1n, vote: SELF }],
    ]);
    expect(n.lord).toBe(true);
    const before = n.effects.length;
    n.advanceTo(1200);
    const unlord = eventsOf(n.effects.slice(before), 'unlord');
    expect(unlord.map((e) => e.reason)).toEqual(['lease']);
    expect(unlord[0]?.atMs).toBe(600 + leaseMs({ toleranceMs: 400, intervalMs: 100 }) + 1);
    // the voters heard our last announce at most one interval before 600: they declare us dead
    // no earlier than 600 - 100 + 400
    expect(unlord[0]!.atMs).toBeLessThan(600 - 100 + 400);
  });

  it('emits join only once per process life', () => {
    const n = new Node();
    n.autoDrain = true;
    n.start();
    n.advanceTo(200);
    n.packet(announce(A, { valor: 20n, vote: A }));
    n.packet(announce(A, { valor: 20n, vote: A, flags: { dead: true } }));
    n.advanceTo(400);
    n.packet(announce(B, { valor: 30n, vote: B }));
    expect(eventsOf(n.effects, 'join')).toHaveLength(1);
    expect(eventsOf(n.effects, 'lord').length).toBeGreaterThanOrEqual(2);
  });
});

describe('death announce', () => {
  it('elects the next lord in the same step', () => {
    const n = new Node();
    n.start();
    feed(n, 500, () => [[A, { valor: 20n, vote: A, flags: { lord: true }, epoch: 4n }]]);
    expect(n.lord).toBe(false);
    const fx = n.packet(announce(A, { valor: 20n, vote: null, flags: { dead: true }, epoch: 4n }));
    expect(kinds(fx)).toEqual(['event:node-left', 'event:lord', 'send', 'event:lord-changed']);
    expect(eventsOf(fx, 'lord')[0]?.epoch).toBe(5n);
    expect(n.state.lordEpoch).toBe(5n);
  });
});

describe('preempt', () => {
  it('preempt=false keeps voting for the live lord, and switches when it dies', () => {
    const n = new Node(params({ preempt: false, valor: 50n }));
    n.start();
    feed(n, 1000, () => [[A, { valor: 5n, vote: A, flags: { lord: true }, epoch: 2n }]]);
    expect(n.state.vote).toBe(A);
    expect(n.lord).toBe(false);
    n.advance(10);
    n.packet(announce(A, { valor: 5n, flags: { dead: true } }));
    expect(n.lord).toBe(true);
    expect(n.state.lordEpoch).toBe(3n);
  });

  it('preempt=false: a draining lord is no longer voted for', () => {
    const n = new Node(params({ preempt: false, valor: 50n }));
    n.start();
    feed(n, 300, () => [[A, { valor: 5n, vote: A, flags: { lord: true } }]]);
    expect(n.state.vote).toBe(A);
    n.packet(announce(A, { valor: 5n, vote: SELF, flags: { draining: true } }));
    expect(n.state.vote).toBe(SELF);
    expect(n.lord).toBe(true);
  });

  it('preemptDelay keeps the sitting lord until the better candidate has been best long enough', () => {
    const n = new Node(params({ preemptDelayMs: 500 }));
    n.start();
    n.advanceTo(200);
    expect(n.lord).toBe(true);
    const appear = n.now;
    n.packet(announce(A, { valor: 20n, vote: SELF }));
    feed(n, appear + 499, () => [[A, { valor: 20n, vote: SELF }]]);
    expect(n.lord).toBe(true);
    expect(n.state.vote).toBe(SELF);
    const fx = n.advanceTo(appear + 500);
    expect(n.lord).toBe(false);
    expect(eventsOf(fx, 'unlord')[0]?.reason).toBe('preempted');
    expect(n.state.vote).toBe(A);
  });

  it('preemptDelay: when the sitting lord dies, switch to the best at once', () => {
    const n = new Node(params({ valor: 1n, preemptDelayMs: 10_000 }));
    n.start();
    n.packet(announce(A, { valor: 5n, vote: A, flags: { lord: true } }));
    n.advance(160); // past the startup grace, when a vote change goes out at once
    n.packet(announce(B, { valor: 9n, vote: A }));
    expect(n.state.vote).toBe(A);
    const fx = n.packet(announce(A, { valor: 5n, flags: { dead: true } }));
    expect(n.state.vote).toBe(B);
    expect(sendsOf(fx)[0]?.vote).toBe(B);
  });

  it('with no sitting lord, votes for the best at once despite preemptDelay', () => {
    const n = new Node(params({ valor: 1n, preemptDelayMs: 10_000 }));
    n.start();
    n.packet(announce(A, { valor: 5n }));
    expect(n.state.vote).toBe(A);
  });
});

describe('lord delay', () => {
  it('announces the lord flag at once but emits the lord event after lordDelayMs', () => {
    const n = new Node(params({ lordDelayMs: 300 }));
    n.start();
    const fx = n.advanceTo(150);
    expect(n.lord).toBe(true);
    expect(sendsOf(fx).at(-1)?.flags.lord).toBe(true);
    expect(eventsOf(fx, 'lord')).toHaveLength(0);
    n.advanceTo(449);
    expect(eventsOf(n.effects, 'lord')).toHaveLength(0);
    const fx2 = n.advanceTo(450);
    expect(eventsOf(fx2, 'lord')).toHaveLength(1);
  });

  it('emits neither lord nor unlord if lordship is lost before the delay', () => {
    const n = new Node(params({ lordDelayMs: 300 }));
    n.start();
    n.advanceTo(200);
    expect(n.lord).toBe(true);
    n.packet(announce(A, { valor: 20n, vote: A }));
    expect(n.lord).toBe(false);
    feed(n, 1000, () => [[A, { valor: 20n, vote: A, flags: { lord: true } }]]);
    expect(eventsOf(n.effects, 'lord')).toHaveLength(0);
    expect(eventsOf(n.effects, 'unlord')).toHaveLength(0);
  });
});

describe('epochs', () => {
  it('starts from initialEpoch and from any higher epoch heard', () => {
    const n = new Node(params({ initialEpoch: 7n }));
    n.autoDrain = true;
    n.start();
    n.advanceTo(200);
    expect(n.state.lordEpoch).toBe(8n);
    n.packet(announce(A, { valor: 20n, vote: A, epoch: 30n, flags: { lord: true } }));
    expect(n.lord).toBe(false);
    n.packet(announce(A, { valor: 20n, flags: { dead: true } }));
    expect(n.lord).toBe(true);
    expect(n.state.lordEpoch).toBe(31n);
  });

  it('a lord that hears a higher epoch moves past it, announces at once and hands hooks the new token', () => {
    const n = new Node();
    n.start();
    n.advanceTo(200);
    expect(n.state.lordEpoch).toBe(1n);
    const fx = n.packet(announce(A, { valor: 2n, vote: A, epoch: 9n, flags: { lord: true } }));
    expect(n.lord).toBe(true);
    expect(n.state.lordEpoch).toBe(10n);
    expect(sendsOf(fx)[0]?.epoch).toBe(10n);
    // the lordship under token 1 ends and one under token 10 begins, in that order
    const evs = eventsOf(fx).filter((e) => e.type === 'lord' || e.type === 'unlord');
    expect(evs.map((e) => [e.type, e.epoch, e.reason])).toEqual([
      ['unlord', 10n, 'epoch'],
      ['lord', 10n, undefined],
    ]);
  });

  it('a lord still waiting out lord_delay moves past a higher epoch without an unlord', () => {
    const n = new Node(params({ lordDelayMs: 500 }));
    n.start();
    n.advanceTo(200);
    expect(n.lord).toBe(true);
    const fx = n.packet(announce(A, { valor: 2n, vote: A, epoch: 9n, flags: { lord: true } }));
    expect(eventsOf(fx).filter((e) => e.type === 'lord' || e.type === 'unlord')).toEqual([]);
    const later = n.advance(600);
    expect(eventsOf(later, 'lord').map((e) => e.epoch)).toEqual([10n]);
    expect(eventsOf(later, 'unlord')).toEqual([]);
  });
});

describe('stall', () => {
  it('a lord checks its lease first, then spares its peers for a tolerance', () => {
    const n = new Node(params({ quorum: 2 }));
    n.start();
    feed(n, 500, () => [[A, { valor: 1n, vote: SELF }]]);
    expect(n.lord).toBe(true);
    // The process is frozen for 5 s: no tick, no packet.
    n.now += 5000;
    // The first input after waking is a queued packet from A, still voting for us.
    const fx = n.packet(announce(A, { valor: 1n, vote: SELF }));
    const unlordAt = fx.findIndex((e) => e.type === 'event' && e.event.type === 'unlord');
    expect(unlordAt).toBeGreaterThanOrEqual(0);
    expect(eventsOf(fx, 'unlord')[0]?.reason).toBe('lease');
    expect(fx.some((e) => e.type === 'log' && e.level === 'warn' && /stall/.test(e.msg))).toBe(true);
    expect(n.state.stalls).toBe(1);
    // A's packet went in after the lease check: it is a member and fresh voter again.
    expect(n.state.peers.has(A)).toBe(true);
  });

  it('does not declare members dead on the strength of its own stall', () => {
    const n = new Node();
    n.start();
    n.packet(announce(A));
    n.packet(announce(B));
    n.now += 3000;
    const wake = n.now;
    const fx = n.input({ type: 'tick' });
    expect(eventsOf(fx, 'node-left')).toHaveLength(0);
    // A speaks again within the grace; B stays silent and expires a tolerance after the wake.
    n.advance(200);
    n.packet(announce(A));
    n.advanceTo(wake + 400);
    expect(n.state.peers.has(B)).toBe(true);
    const fx2 = n.advanceTo(wake + 401);
    expect(eventsOf(fx2, 'node-left').map((e) => e.member?.uuid)).toEqual([B]);
    expect(n.state.peers.has(A)).toBe(true);
  });

  it('a lord with quorum 1 keeps its title through a stall', () => {
    const n = new Node();
    n.start();
    n.advanceTo(200);
    n.now += 5000;
    const fx = n.input({ type: 'tick' });
    expect(n.lord).toBe(true);
    expect(eventsOf(fx, 'unlord')).toHaveLength(0);
  });
});

describe('view', () => {
  it('reports lord, votes, quorum and members', () => {
    const n = new Node(params({ quorum: 2 }));
    n.start();
    feed(n, 300, () => [[A, { valor: 1n, vote: SELF }]]);
    const v = n.view();
    expect(v.lord?.uuid).toBe(SELF);
    expect(v.self.lord).toBe(true);
    expect(v.votes).toBe(2);
    expect(v.quorumMet).toBe(true);
    expect(v.members.map((m) => m.uuid)).toEqual([SELF, A]);
    expect(v.epoch).toBe(1n);
    // Views computed later drop members that expired, without needing a tick.
    n.now += 1000;
    expect(n.view().members.map((m) => m.uuid)).toEqual([SELF]);
  });
});
