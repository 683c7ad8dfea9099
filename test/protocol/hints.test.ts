import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LegiondError } from '../../src/errors.js';
import { HintCodec, isHintPacket } from '../../src/protocol/hints.js';
import { makeKeyRing, NativeDecoder } from '../../src/protocol/native.js';

const enc = (s: string) => new TextEncoder().encode(s);
const ring = (...secrets: string[]) => makeKeyRing(secrets.map(enc), 'web');
const UUID = '0a1b2c3d-0000-4000-8000-00000000000a';

function code(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(LegiondError);
    return (e as LegiondError).code;
  }
  return undefined;
}

describe('peer hints', () => {
  const hint = {
    uuid: UUID,
    seq: 17n,
    sentAtMs: 1_700_000_000_123,
    addresses: [
      { address: '127.0.0.1', port: 4000 },
      { address: '::1', port: 4001 },
      { address: 'fe80::1:2', port: 65535 },
    ],
  };

  it('round-trips through the same key ring', () => {
    const c = new HintCodec(ring('s'));
    const bytes = c.encode(hint);
    expect(isHintPacket(bytes)).toBe(true);
    expect(c.decode(bytes)).toEqual(hint);
  });

  it('opens with a key the receiver only accepts (rotation), and not with a foreign one', () => {
    const bytes = new HintCodec(ring('old')).encode(hint);
    expect(new HintCodec(ring('new', 'old')).decode(bytes).uuid).toBe(UUID);
    expect(code(() => new HintCodec(ring('other')).decode(bytes))).toBe('ERR_AUTH');
  });

  it('is keyed apart from announces: the legion key alone does not open a hint', () => {
    const bytes = new HintCodec(ring('s')).encode(hint);
    // an announce decoder of the same legion and key refuses it as another kind of packet
    expect(code(() => new NativeDecoder({ legion: 'web', keys: ring('s') }).decode(bytes, Date.now()))).toBe(
      'ERR_BAD_MAGIC',
    );
  });

  it('refuses tampering, truncation and a wrong version', () => {
    const c = new HintCodec(ring('s'));
    const bytes = c.encode(hint);
    for (const at of [2, 5, 20, bytes.length - 1]) {
      const bad = bytes.slice();
      bad[at]! ^= 1;
      expect(['ERR_AUTH', 'ERR_VERSION']).toContain(code(() => c.decode(bad)));
    }
    expect(code(() => c.decode(bytes.subarray(0, 20)))).toBe('ERR_TRUNCATED');
  });

  it('refuses what it cannot send: a name, a port 0', () => {
    const c = new HintCodec(ring('s'));
    expect(code(() => c.encode({ ...hint, addresses: [{ address: 'db.example', port: 1 }] }))).toBe(
      'ERR_MALFORMED',
    );
    expect(code(() => c.encode({ ...hint, addresses: [{ address: '10.0.0.1', port: 0 }] }))).toBe(
      'ERR_MALFORMED',
    );
  });

  it('any bytes decode or fail with a LegiondError, never anything else', () => {
    const c = new HintCodec(ring('s'));
    const valid = c.encode(hint);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(valid.length), (junk, cut) => {
        for (const b of [junk, Uint8Array.from([0x4c, 0x48, ...junk]), valid.subarray(0, cut)]) {
          try {
            c.decode(b);
          } catch (e) {
            expect(e).toBeInstanceOf(LegiondError);
          }
        }
      }),
      { numRuns: 500 },
    );
  });
});
