/** lord-changed and scroll-changed: once per change, with the right fields, on every kind of node. */
import { describe, expect, it } from 'vitest';
import { publicEvent } from '../../src/daemon/legion-host.js';
import { eventContext } from '../../src/hooks/env.js';
import { announce, eventsOf, Node, params, uuidOf } from './helpers.js';

const enc = new TextEncoder();
const LORD = uuidOf(9);
const OTHER = uuidOf(8);

function lordPacket(uuid: string, epoch: bigint, scroll = 'addr=10.0.0.9:6379') {
  return announce(uuid, { valor: 50n, epoch, vote: uuid, flags: { lord: true }, scroll: enc.encode(scroll) });
}

/** A started node; with quorum 2 a lone follower cannot make itself lord when the lord leaves. */
function started(valor: bigint, quorum = 1): Node {
  const n = new Node(params({ valor, quorum }));
  n.autoDrain = true;
  n.start();
  return n;
}

describe('lord-changed', () => {
  for (const [role, valor] of [
    ['a follower', 5n],
    ['an arbiter', 0n],
  ] as const) {
    it(`fires once per change of lord on ${role}, naming the new lord or none`, () => {
      const n = started(valor, 2);
      const first = eventsOf(n.packet(lordPacket(LORD, 3n)), 'lord-changed');
      expect(first).toHaveLength(1);
      const e = first[0]!;
      expect(e.lord?.uuid).toBe(LORD);
      expect(e.lord?.name).toBe(`peer-${LORD.slice(-4)}`);
      expect(e.epoch).toBe(3n);
      expect(new TextDecoder().decode(e.lord?.scroll)).toBe('addr=10.0.0.9:6379');
      // heartbeats of the same lord change nothing
      for (let i = 0; i < 5; i++) {
        n.advance(50);
        expect(eventsOf(n.packet(lordPacket(LORD, 3n)), 'lord-changed')).toHaveLength(0);
      }
      // the lord leaves: none
      const gone = eventsOf(n.packet(announce(LORD, { valor: 50n, flags: { dead: true } })), 'lord-changed');
      expect(gone.map((x) => x.lord)).toEqual([null]);
      // another lord is elected
      const next = eventsOf(n.packet(lordPacket(OTHER, 4n, 'addr=10.0.0.8:6379')), 'lord-changed');
      expect(next.map((x) => [x.lord?.uuid, x.epoch])).toEqual([[OTHER, 4n]]);
      expect(eventsOf(n.effects, 'lord-changed')).toHaveLength(3);
    });
  }

  it('fires on the lord itself, with its lordship epoch, and again when it steps down', () => {
    const n = started(10n);
    n.advance(1000);
    expect(n.lord).toBe(true);
    const mine = eventsOf(n.effects, 'lord-changed');
    expect(mine).toHaveLength(1);
    expect(mine[0]!.lord?.uuid).toBe(n.p.uuid);
    expect(mine[0]!.lord?.self).toBe(true);
    expect(mine[0]!.epoch).toBe(n.state.lordEpoch);
    // the lord event comes first, then the change of lord it makes
    const types = eventsOf(n.effects).map((e) => e.type);
    expect(types.indexOf('lord')).toBeLessThan(types.indexOf('lord-changed'));
    n.advance(1000);
    expect(eventsOf(n.effects, 'lord-changed')).toHaveLength(1);
    n.command({ type: 'stepdown', forMs: 5000 });
    const after = eventsOf(n.effects, 'lord-changed');
    expect(after).toHaveLength(2);
    expect(after[1]!.lord).toBeNull();
  });

  it('hands hooks LEGION_LORD_* and LEGION_EPOCH of the new lord, and the stream its epoch and scroll', () => {
    const n = started(5n);
    const e = eventsOf(n.packet(lordPacket(LORD, 7n)), 'lord-changed')[0]!;
    const { env } = eventContext('web', e);
    expect(env).toMatchObject({
      LEGION_EVENT: 'lord-changed',
      LEGION_LORD_UUID: LORD,
      LEGION_LORD_NAME: `peer-${LORD.slice(-4)}`,
      LEGION_LORD_SCROLL: 'addr=10.0.0.9:6379',
      LEGION_EPOCH: '7',
    });
    expect(publicEvent('web', e)).toMatchObject({
      type: 'lord-changed',
      legion: 'web',
      epoch: '7',
      lord: { uuid: LORD, name: `peer-${LORD.slice(-4)}`, epoch: '7', scroll: 'addr=10.0.0.9:6379' },
    });
    const none = eventsOf(
      n.packet(announce(LORD, { valor: 50n, flags: { dead: true } })),
      'lord-changed',
    )[0]!;
    expect(publicEvent('web', none).lord).toBeNull();
    expect(eventContext('web', none).env.LEGION_LORD_SCROLL).toBe('');
  });
});

describe('scroll-changed', () => {
  it("fires once when a member's scroll changes, not when it joins or repeats itself", () => {
    const n = started(5n);
    const peer = (scroll: string, epoch = 0n) => announce(OTHER, { scroll: enc.encode(scroll), epoch });
    expect(eventsOf(n.packet(peer('a')), 'scroll-changed')).toHaveLength(0);
    n.advance(50);
    expect(eventsOf(n.packet(peer('a')), 'scroll-changed')).toHaveLength(0);
    // news other than the scroll is no scroll change
    expect(eventsOf(n.packet(peer('a', 1n)), 'scroll-changed')).toHaveLength(0);
    const changed = eventsOf(n.packet(peer('b', 1n)), 'scroll-changed');
    expect(changed).toHaveLength(1);
    expect(changed[0]!.member?.uuid).toBe(OTHER);
    expect(new TextDecoder().decode(changed[0]!.member?.scroll)).toBe('b');
    expect(eventsOf(n.packet(peer('b', 1n)), 'scroll-changed')).toHaveLength(0);
    expect(publicEvent('web', changed[0]!)).toMatchObject({
      type: 'scroll-changed',
      legion: 'web',
      member: { uuid: OTHER, name: `peer-${OTHER.slice(-4)}`, scroll: 'b' },
    });
    expect(eventContext('web', changed[0]!).env.LEGION_MEMBER_SCROLL).toBe('b');
  });

  it("fires for this node's own scroll, once per actual change", () => {
    const n = started(5n);
    const set = (s: string) =>
      eventsOf(n.command({ type: 'set-scroll', scroll: enc.encode(s) }), 'scroll-changed');
    const own = set('mine');
    expect(own).toHaveLength(1);
    expect(own[0]!.member?.self).toBe(true);
    expect(new TextDecoder().decode(own[0]!.member?.scroll)).toBe('mine');
    expect(set('mine')).toHaveLength(0);
    const re = eventsOf(
      n.command({ type: 'reconfigure', params: { scroll: enc.encode('other') } }),
      'scroll-changed',
    );
    expect(re).toHaveLength(1);
  });

  it('stays quiet before setup: the scroll goes out with the first announce', () => {
    const n = new Node(params());
    n.command({ type: 'set-scroll', scroll: enc.encode('early') });
    n.start();
    expect(eventsOf(n.effects, 'scroll-changed')).toHaveLength(0);
  });
});
