import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runFuzz } from '../../bench/fuzz-lib.js';
import { isLegiondError } from '../../src/errors.js';
import { makeKeyRing } from '../../src/protocol/crypto.js';
import { isProtocolErrorCode } from '../../src/protocol/errors.js';
import { NativeDecoder } from '../../src/protocol/native.js';

describe('decoder fuzz', () => {
  it('20,000 seeded random and mutated inputs raise only LegiondError with known codes', () => {
    const r = runFuzz(20_000, 20240601);
    expect(r.failures).toEqual([]);
    expect(r.unexpected).toBe(0);
    const total = r.accepted + Object.values(r.counts).reduce((x, y) => x + y, 0);
    expect(total).toBe(20_000);
    // the mutations reach deep into the decoder, not just the magic check
    for (const code of [
      'ERR_AUTH',
      'ERR_BAD_MAGIC',
      'ERR_TRUNCATED',
      'ERR_MALFORMED',
      'ERR_LIMIT',
      'ERR_REPLAY',
    ]) {
      expect(r.counts[code] ?? 0, code).toBeGreaterThan(0);
    }
    expect(r.accepted).toBeGreaterThan(0);
  });

  it('arbitrary bytes behind a valid header never escape as anything but LegiondError', () => {
    const legion = 'fc';
    const decoders = [
      new NativeDecoder({ legion, keys: null }),
      new NativeDecoder({ legion, keys: makeKeyRing([new Uint8Array([9])], legion) }),
    ];
    fc.assert(
      fc.property(
        fc.constantFrom(0, 1, 2),
        fc.uint8Array({ maxLength: 400 }),
        fc.boolean(),
        (mode, tail, keyed) => {
          const p = new Uint8Array(4 + tail.length);
          p.set([0x4c, 0x47, 1, mode]);
          p.set(tail, 4);
          try {
            decoders[keyed ? 1 : 0]!.decode(p, 0);
          } catch (e) {
            expect(isLegiondError(e) && isProtocolErrorCode(e.code)).toBe(true);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
