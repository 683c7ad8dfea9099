import { describe, expect, it } from 'vitest';
import type { Hint } from '../../src/protocol/hints.js';
import { LearnedPeers } from '../../src/transport/learned.js';

const SELF = '00000000-0000-4000-8000-000000000000';
const A = '00000000-0000-4000-8000-00000000000a';
const B = '00000000-0000-4000-8000-00000000000b';
const WALL = 1_700_000_000_000;
const at = (port: number) => ({ address: '127.0.0.1', port });
const hint = (
  uuid: string,
  seq: bigint,
  addresses = [] as Array<{ address: string; port: number }>,
): Hint => ({
  uuid,
  seq,
  sentAtMs: WALL,
  addresses,
});
const ports = (list: Array<{ port: number }>) => list.map((a) => a.port).sort();

describe('learned peers', () => {
  const table = () => new LearnedPeers({ max: 4, ttlMs: 1000, replayWindowMs: 60_000 });

  it('confirms the sender and takes the addresses it vouches for, both until the ttl passes', () => {
    const t = table();
    const r = t.take(hint(A, 1n, [at(2), at(3)]), at(1), SELF, 0, WALL);
    expect(r).toEqual({ verdict: 'learned', grew: true });
    expect(ports(t.destinations(500))).toEqual([1, 2, 3]);
    expect(ports(t.confirmed(500))).toEqual([1]);
    // a later hint from A keeps A and what it lists alive; 3 is no longer listed and lapses
    expect(t.take(hint(A, 2n, [at(2)]), at(1), SELF, 900, WALL).verdict).toBe('known');
    expect(ports(t.destinations(1500))).toEqual([1, 2]);
    expect(t.destinations(2000)).toEqual([]);
  });

  it('a suggested address becomes confirmed when its member speaks from it', () => {
    const t = table();
    t.take(hint(A, 1n, [at(2)]), at(1), SELF, 0, WALL);
    expect(t.take(hint(B, 1n), at(2), SELF, 10, WALL).verdict).toBe('learned');
    expect(ports(t.confirmed(10))).toEqual([1, 2]);
  });

  it('refuses a replayed or reordered seq, and a first hint outside the wall-clock window', () => {
    const t = table();
    t.take(hint(A, 5n), at(1), SELF, 0, WALL);
    expect(t.take(hint(A, 5n, [at(9)]), at(7), SELF, 1, WALL).verdict).toBe('replay');
    expect(t.take(hint(A, 4n, [at(9)]), at(7), SELF, 1, WALL).verdict).toBe('replay');
    expect(t.take(hint(B, 1n), at(8), SELF, 1, WALL + 61_000).verdict).toBe('stale');
    expect(ports(t.destinations(2))).toEqual([1]);
  });

  it('never sends to where its own hint came back from', () => {
    const t = table();
    t.take(hint(A, 1n, [at(5)]), at(1), SELF, 0, WALL);
    expect(t.take(hint(SELF, 1n), at(5), SELF, 1, WALL).verdict).toBe('self');
    expect(t.isSelf(at(5))).toBe(true);
    t.take(hint(A, 2n, [at(5)]), at(1), SELF, 2, WALL);
    expect(ports(t.destinations(3))).toEqual([1]);
  });

  it('a member that moved is sent to at its new address only', () => {
    const t = table();
    t.take(hint(A, 1n), at(1), SELF, 0, WALL);
    t.take(hint(A, 2n), at(6), SELF, 1, WALL);
    expect(ports(t.destinations(2))).toEqual([6]);
  });

  it('is bounded: past the limit addresses are refused and counted', () => {
    const t = table();
    t.take(hint(A, 1n, [at(2), at(3), at(4), at(5), at(6)]), at(1), SELF, 0, WALL);
    expect(t.size).toBe(4);
    expect(t.refused).toBe(2);
    // room again once entries lapse
    expect(t.take(hint(B, 1n), at(7), SELF, 5000, WALL).verdict).toBe('learned');
    expect(t.size).toBe(1);
  });
});

describe('learned peers and seeds', () => {
  it('a seed takes no room, is vouched for once heard, and is never suggested into the table', () => {
    const t = new LearnedPeers({ max: 1, ttlMs: 1000, replayWindowMs: 60_000 });
    const seed = (a: { port: number }) => a.port === 1;
    expect(t.take(hint(A, 1n, [at(2)]), at(1), SELF, 0, WALL, seed)).toEqual({
      verdict: 'learned',
      grew: true,
    });
    expect(ports(t.destinations(1))).toEqual([2]);
    expect(ports(t.confirmed(1))).toEqual([1]);
    t.take(hint(B, 1n, [at(1)]), at(2), SELF, 2, WALL, seed);
    expect(t.refused).toBe(0);
    expect(ports(t.confirmed(3))).toEqual([1, 2]);
    expect(t.confirmed(5000)).toEqual([]);
  });
});
