/**
 * The vote tally's running maximum against counts kept by brute force, over random histories of
 * votes cast and withdrawn: quorumAgrees trusts `max` instead of scanning every candidate.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VoteTally } from '../../src/legion/peers.js';

// few candidates, so counts climb, tie and fall back to zero often
const CANDIDATES = ['a', 'b', 'c', 'd'];

const opArb = fc.record({
  add: fc.boolean(),
  who: fc.nat({ max: CANDIDATES.length - 1 }),
});

describe('VoteTally', () => {
  it('keeps each count and the largest equal to brute force', () => {
    fc.assert(
      fc.property(fc.array(opArb, { maxLength: 100, size: 'max' }), (ops) => {
        const t = new VoteTally();
        const brute = new Map<string, number>();
        for (const op of ops) {
          const who = CANDIDATES[op.who]!;
          const n = brute.get(who) ?? 0;
          // the peer table withdraws only votes it counted; a stray withdrawal must change nothing
          if (op.add) {
            t.add(who);
            brute.set(who, n + 1);
          } else {
            t.remove(who);
            if (n > 1) brute.set(who, n - 1);
            else brute.delete(who);
          }
          expect(t.max).toBe(Math.max(0, ...brute.values()));
        }
        expect(CANDIDATES.map((c) => t.get(c))).toEqual(CANDIDATES.map((c) => brute.get(c) ?? 0));
        expect(t.size).toBe(brute.size);
        expect(new Map(t.entries())).toEqual(brute);
      }),
      { numRuns: 300 },
    );
  });

  it('falls to the next count when the only leader loses a vote, not below a tied leader', () => {
    const t = new VoteTally();
    t.add('a');
    t.add('a');
    t.add('b');
    t.add('b');
    t.remove('a');
    expect(t.max).toBe(2);
    t.remove('b');
    expect(t.max).toBe(1);
    t.remove('a');
    t.remove('b');
    expect(t.max).toBe(0);
    expect(t.size).toBe(0);
  });
});
