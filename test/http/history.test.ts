/** The status page's history: a bounded ring per legion, eviction by age and count, replay ids. */
import { describe, expect, it } from 'vitest';
import { History, Ring } from '../../src/http/history.js';

const m = (name: string) => ({ uuid: `uuid-${name}`, name });

describe('Ring', () => {
  it('keeps the newest `capacity` items in order and hands back what it evicts', () => {
    const r = new Ring<number>(3);
    expect(r.push(1)).toBeUndefined();
    r.push(2);
    r.push(3);
    expect(r.push(4)).toBe(1);
    expect(r.toArray()).toEqual([2, 3, 4]);
    expect(r.shift()).toBe(2);
    expect(r.peek()).toBe(3);
    r.push(5);
    r.push(6);
    expect(r.toArray()).toEqual([4, 5, 6]);
    expect(r.size).toBe(3);
    expect(() => new Ring(0)).toThrow(RangeError);
  });
});

describe('History', () => {
  it('numbers entries across legions and replays what follows a seq', () => {
    let now = 1000;
    const h = new History({ now: () => now });
    h.record('web', { kind: 'node-joined', member: m('a') });
    now += 10;
    h.record('db', { kind: 'lord-changed', lord: m('b'), epoch: '1' });
    h.record('web', { kind: 'hook', event: 'lord', outcome: 'ok', durationMs: 5, exitCode: 0 });
    expect(h.lastSeq).toBe(3);
    expect(h.entries('web').map((e) => [e.seq, e.kind, e.at])).toEqual([
      [1, 'node-joined', 1000],
      [3, 'hook', 1010],
    ]);
    expect(h.since(1)).toEqual({ entries: [h.entries('db')[0], h.entries('web')[1]], complete: true });
    expect(h.since(3).entries).toEqual([]);
    // a seq from the future (another process) is not a record this history can extend
    expect(h.since(99).complete).toBe(false);
  });

  it('evicts by count and by age, folding what it drops into `before`', () => {
    let now = 0;
    const h = new History({ now: () => now, capacity: 3, windowMs: 1000 });
    h.record('web', { kind: 'node-joined', member: m('a') });
    h.record('web', { kind: 'node-joined', member: m('b') });
    h.record('web', { kind: 'lord-changed', lord: m('b'), epoch: '1' });
    expect(h.before('web')).toEqual({ present: new Map() });
    h.record('web', { kind: 'node-left', member: m('a'), reason: 'timeout' });
    // the join of a fell out: a counts as present before the kept entries
    expect(h.entries('web').map((e) => e.seq)).toEqual([2, 3, 4]);
    expect([...h.before('web').present]).toEqual([['uuid-a', 'a']]);
    expect(h.since(0).complete).toBe(false);
    expect(h.since(1).complete).toBe(true);
    now = 1500;
    // everything is older than the window now
    expect(h.entries('web')).toEqual([]);
    const b = h.before('web');
    expect(b.lord).toEqual(m('b'));
    expect(b.lordEpoch).toBe('1');
    // a left: only members still present are remembered
    expect([...b.present]).toEqual([['uuid-b', 'b']]);
  });

  it('stays bounded under a flood of events', () => {
    const h = new History({ now: () => 5, capacity: 50 });
    for (let i = 0; i < 10_000; i++) {
      h.record('web', { kind: 'node-joined', member: m(`n${i}`) });
      h.record('web', { kind: 'node-left', member: m(`n${i}`) });
    }
    expect(h.entries('web')).toHaveLength(50);
    expect(h.before('web').present.size).toBe(0);
    expect(h.since(0).entries).toHaveLength(50);
  });

  it('forgets a legion that left, and a reader behind it learns it missed something', () => {
    const h = new History({ now: () => 1 });
    h.record('web', { kind: 'join', epoch: '0' });
    h.record('db', { kind: 'join', epoch: '0' });
    h.forget('web');
    expect(h.legions()).toEqual(['db']);
    expect(h.since(0)).toMatchObject({ complete: false });
    expect(h.since(1)).toMatchObject({ complete: true });
    expect(h.since(1).entries.map((e) => e.legion)).toEqual(['db']);
  });
});
