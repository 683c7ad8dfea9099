import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeKeyRing } from '../../src/protocol/crypto.js';
import { DEFAULT_MAX_PACKET_BYTES, MAX_PACKET_BYTES_CEILING } from '../../src/protocol/limits.js';
import { NativeDecoder, NativeEncoder } from '../../src/protocol/native.js';
import type { Announce } from '../../src/protocol/types.js';
import { announceArb, legionArb } from './arbitraries.js';

const T = 1_700_000_000_000;
const secret = new TextEncoder().encode('round trip secret');

function pair(legion: string, keyed: boolean, maxPacketBytes?: number) {
  const keys = keyed ? makeKeyRing([secret], legion) : null;
  return {
    enc: new NativeEncoder({ legion, keys, wallClock: () => T, maxPacketBytes }),
    dec: new NativeDecoder({ legion, keys, maxPacketBytes }),
  };
}

const withLegion = legionArb.chain((legion) => fc.tuple(fc.constant(legion), announceArb(legion)));

describe('native codec round trip', () => {
  for (const keyed of [false, true]) {
    const mode = keyed ? 'keyed' : 'insecure';

    it(`${mode}: every field survives when the packet limit leaves room for all of seen`, () => {
      fc.assert(
        fc.property(withLegion, ([legion, a]) => {
          const { enc, dec } = pair(legion, keyed, MAX_PACKET_BYTES_CEILING);
          const { announce, envelope } = dec.decode(enc.encode(a), T);
          expect(announce).toEqual(a);
          expect(envelope).toEqual({ version: 1, seq: 1n, sentAtMs: T });
        }),
        { numRuns: 200 },
      );
    });

    it(`${mode}: at the default limit only the stalest seen entries are dropped`, () => {
      let trimmedRuns = 0;
      fc.assert(
        fc.property(withLegion, ([legion, a]) => {
          const { enc, dec } = pair(legion, keyed);
          const bytes = enc.encode(a);
          expect(bytes.length).toBeLessThanOrEqual(DEFAULT_MAX_PACKET_BYTES);
          const { announce } = dec.decode(bytes, T);
          const { seen, ...rest } = announce;
          const { seen: sentSeen, ...sentRest } = a;
          expect(rest).toEqual(sentRest);
          // kept entries are a subsequence of what was sent, and none dropped is fresher than one kept
          let j = 0;
          for (const s of seen) {
            while (j < sentSeen.length && sentSeen[j] !== undefined && sentSeen[j]!.uuid !== s.uuid) j++;
            expect(sentSeen[j]).toEqual(s);
            j++;
          }
          const keptMax = Math.max(-1, ...seen.map((s) => s.agoMs));
          const dropped = sentSeen.length - seen.length;
          if (dropped > 0) {
            if (seen.length >= 2) trimmedRuns++;
            const droppedMin = Math.min(
              ...sentSeen
                .map((s) => s.agoMs)
                .sort((x, y) => x - y)
                .slice(seen.length),
            );
            expect(droppedMin).toBeGreaterThanOrEqual(keptMax);
            // it dropped only what it had to: one more entry would not have fitted
            expect(bytes.length + 20).toBeGreaterThan(DEFAULT_MAX_PACKET_BYTES);
          }
        }),
        { numRuns: 200 },
      );
      expect(trimmedRuns).toBeGreaterThan(10);
    });
  }

  it('seq strictly increases from 1 and sentAtMs is the wall clock', () => {
    let now = T;
    const legion = 'seq';
    const enc = new NativeEncoder({ legion, keys: null, wallClock: () => now });
    const dec = new NativeDecoder({ legion, keys: null });
    const a: Announce = {
      legion,
      uuid: '11111111-2222-3333-4444-555555555555',
      name: 'n',
      valor: 1n,
      epoch: 0n,
      vote: null,
      flags: { lord: false, arbiter: false, dead: false, draining: false },
      viewDigest: 0,
      scroll: new Uint8Array(0),
      seen: [],
    };
    for (let i = 1; i <= 5; i++) {
      now += 250.7;
      const { envelope } = dec.decode(enc.encode(a), now);
      expect(envelope.seq).toBe(BigInt(i));
      expect(envelope.sentAtMs).toBe(Math.floor(now));
    }
    expect(enc.lastSeq).toBe(5n);
  });

  it('fractional or huge agoMs are carried as whole ms clamped to u32', () => {
    const legion = 'ago';
    const enc = new NativeEncoder({ legion, keys: null, wallClock: () => T });
    const dec = new NativeDecoder({ legion, keys: null });
    const base = {
      legion,
      uuid: '11111111-2222-3333-4444-555555555555',
      name: 'n',
      valor: 1n,
      epoch: 0n,
      vote: null,
      flags: { lord: false, arbiter: false, dead: false, draining: false },
      viewDigest: 0,
      scroll: new Uint8Array(0),
    };
    const u = '00000000-0000-0000-0000-00000000000';
    const { announce } = dec.decode(
      enc.encode({
        ...base,
        seen: [
          { uuid: `${u}1`, agoMs: 12.9 },
          { uuid: `${u}2`, agoMs: 2 ** 40 },
          { uuid: `${u}3`, agoMs: -3 },
        ],
      }),
      T,
    );
    expect(announce.seen.map((s) => s.agoMs)).toEqual([12, 0xffffffff, 0]);
  });
});
