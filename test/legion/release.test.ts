import { describe, expect, it } from 'vitest';
import { announce, eventsOf, kinds, Node, params, sendsOf, uuidOf } from './helpers.js';

const SELF = uuidOf(1);
const A = uuidOf(2);

/** A lord at t=200 with one lesser peer A that keeps announcing. */
function lordWithPeer(): Node {
  const n = new Node();
  n.start();
  n.packet(announce(A, { valor: 5n, vote: SELF }));
  n.advanceTo(200);
  n.packet(announce(A, { valor: 5n, vote: SELF }));
  expect(n.lord).toBe(true);
  return n;
}

function keepPeer(n: Node, until: number): void {
  while (n.now + 100 <= until) {
    n.advance(100);
    n.packet(announce(A, { valor: 5n, vote: n.state.lord ? SELF : A }));
  }
  n.advanceTo(until);
}

describe('stepdown', () => {
  it('a lord releases: unlord + await-hooks, announces unchanged until hooks-drained', () => {
    const n = lordWithPeer();
    const fx = n.command({ type: 'stepdown', forMs: 2000 });
    expect(kinds(fx)).toEqual(['event:unlord', 'await-hooks', 'event:lord-changed']);
    expect(eventsOf(fx, 'unlord')[0]?.reason).toBe('stepdown');
    expect(n.view().phase).toBe('releasing');
    expect(n.view().self.lord).toBe(false);
    const before = n.effects.length;
    keepPeer(n, 900);
    const held = sendsOf(n.effects.slice(before));
    expect(held.length).toBeGreaterThanOrEqual(6);
    for (const a of held) expect(a).toMatchObject({ vote: SELF, flags: { lord: true, draining: false } });
    const fx2 = n.input({ type: 'hooks-drained' });
    const [out] = sendsOf(fx2);
    expect(out).toMatchObject({ vote: A, flags: { lord: false, draining: true } });
    expect(n.view().phase).toBe('running');
    expect(n.view().draining).toBe(true);
    expect(n.lord).toBe(false);
  });

  it('stepdown-cancel makes the node a candidate again, and it becomes lord with a new epoch', () => {
    const n = lordWithPeer();
    const epoch = n.state.lordEpoch;
    n.command({ type: 'stepdown', forMs: 60_000 });
    n.input({ type: 'hooks-drained' });
    keepPeer(n, 1000);
    expect(n.lord).toBe(false);
    const fx = n.command({ type: 'stepdown-cancel' });
    expect(n.lord).toBe(true);
    expect(n.state.lordEpoch).toBe(epoch + 1n);
    expect(sendsOf(fx)[0]).toMatchObject({ vote: SELF, flags: { lord: true, draining: false } });
  });

  it('the stepdown period ends by itself', () => {
    const n = lordWithPeer();
    n.command({ type: 'stepdown', forMs: 1000 });
    n.input({ type: 'hooks-drained' });
    keepPeer(n, 1199);
    expect(n.lord).toBe(false);
    keepPeer(n, 1200);
    expect(n.view().draining).toBe(false);
    expect(n.lord).toBe(true);
  });

  it('a non-lord stepdown only drains: no unlord, no await-hooks', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    n.packet(announce(A, { valor: 5n, vote: A }));
    const fx = n.command({ type: 'stepdown', forMs: 500 });
    expect(kinds(fx)).toEqual(['send']);
    expect(sendsOf(fx)[0]?.flags.draining).toBe(true);
  });

  it('hook-failed steps the lord down for stepdownMs', () => {
    const n = lordWithPeer();
    const fx = n.command({ type: 'hook-failed', event: 'lord', stepdownMs: 700 });
    expect(kinds(fx)).toEqual(['event:unlord', 'await-hooks', 'event:lord-changed']);
    n.input({ type: 'hooks-drained' });
    expect(n.state.drainingUntilMs).toBe(900);
  });
});

describe('shutdown', () => {
  it('a lord: unlord, await-hooks, steady announces, then death announce x3, death, stopped', () => {
    const n = lordWithPeer();
    const fx = n.command({ type: 'shutdown' });
    expect(kinds(fx)).toEqual(['event:unlord', 'await-hooks', 'event:lord-changed']);
    expect(eventsOf(fx, 'unlord')[0]?.reason).toBe('shutdown');
    const before = n.effects.length;
    keepPeer(n, 700);
    for (const a of sendsOf(n.effects.slice(before)))
      expect(a.flags).toMatchObject({ lord: true, dead: false });
    const fx2 = n.input({ type: 'hooks-drained' });
    expect(kinds(fx2)).toEqual(['send', 'event:death', 'stopped']);
    const send = fx2.find((e) => e.type === 'send');
    expect(send?.type === 'send' && send.repeat).toBe(3);
    expect(send?.type === 'send' && send.packet.flags).toMatchObject({ dead: true, lord: false });
    expect(n.view().phase).toBe('dead');
    expect(n.wakeAt).toBe(Number.POSITIVE_INFINITY);
    expect(n.packet(announce(A))).toEqual([]);
    expect(n.input({ type: 'tick' })).toEqual([]);
  });

  it('a non-lord: no unlord, but still waits for earlier hooks', () => {
    const n = new Node(params({ valor: 1n }));
    n.start();
    n.packet(announce(A, { valor: 5n, vote: A }));
    expect(kinds(n.command({ type: 'shutdown' }))).toEqual(['await-hooks']);
    expect(kinds(n.input({ type: 'hooks-drained' }))).toEqual(['send', 'event:death', 'stopped']);
  });

  it('a lord with a pending lord event leaves without lord or unlord events', () => {
    const n = new Node(params({ lordDelayMs: 1000 }));
    n.start();
    n.advanceTo(200);
    expect(n.lord).toBe(true);
    expect(kinds(n.command({ type: 'shutdown' }))).toEqual(['await-hooks', 'event:lord-changed']);
    n.input({ type: 'hooks-drained' });
    expect(eventsOf(n.effects, 'lord')).toHaveLength(0);
    expect(eventsOf(n.effects, 'unlord')).toHaveLength(0);
  });

  it('shutdown during a stepdown release turns into a shutdown when hooks drain', () => {
    const n = lordWithPeer();
    n.command({ type: 'stepdown', forMs: 5000 });
    expect(kinds(n.command({ type: 'shutdown' }))).toEqual([]);
    expect(kinds(n.input({ type: 'hooks-drained' }))).toEqual(['send', 'event:death', 'stopped']);
  });
});

describe('valor and scroll', () => {
  it('set-valor announces at once; valor 0 makes the lord an arbiter and it steps down', () => {
    const n = lordWithPeer();
    const fx = n.command({ type: 'set-valor', valor: 12n });
    expect(sendsOf(fx)[0]?.valor).toBe(12n);
    expect(n.lord).toBe(true);
    const fx2 = n.command({ type: 'set-valor', valor: 0n });
    expect(n.lord).toBe(false);
    expect(eventsOf(fx2, 'unlord')[0]?.reason).toBe('arbiter');
    // the claim stands until the release completes
    expect(sendsOf(fx2)[0]).toMatchObject({ valor: 0n, vote: A, flags: { arbiter: true, lord: true } });
    const done = n.input({ type: 'hooks-drained' });
    expect(sendsOf(done)[0]).toMatchObject({ valor: 0n, vote: A, flags: { arbiter: true, lord: false } });
  });

  it('set-valor rejects values outside u64 and changes nothing', () => {
    const n = lordWithPeer();
    const fx = n.command({ type: 'set-valor', valor: 1n << 64n });
    expect(sendsOf(fx)).toHaveLength(0);
    expect(n.state.params.valor).toBe(10n);
    expect(fx.some((e) => e.type === 'log' && e.level === 'warn')).toBe(true);
  });

  it('set-scroll announces at once and the node keeps its own copy', () => {
    const n = lordWithPeer();
    const scroll = new TextEncoder().encode('addr=10.0.0.5');
    const fx = n.command({ type: 'set-scroll', scroll });
    expect(new TextDecoder().decode(sendsOf(fx)[0]?.scroll)).toBe('addr=10.0.0.5');
    scroll[0] = 0;
    expect(new TextDecoder().decode(n.view().self.scroll)).toBe('addr=10.0.0.5');
  });

  it('reconfigure applies params and announces a changed valor', () => {
    const n = lordWithPeer();
    const fx = n.command({ type: 'reconfigure', params: { valor: 3n, quorum: 1 } });
    expect(n.state.vote).toBe(A);
    expect(sendsOf(fx)[0]?.valor).toBe(3n);
  });
});
