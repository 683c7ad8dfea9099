import { describe, expect, it } from 'vitest';
import { makeKeyRing } from '../../src/protocol/crypto.js';
import { NativeDecoder, NativeEncoder } from '../../src/protocol/native.js';
import { codeOf, sampleAnnounce } from './arbitraries.js';

const T = 1_700_000_000_000;
const legion = 'tamper';
const keys = makeKeyRing([new TextEncoder().encode('tamper secret')], legion);

function packet(keyed: boolean): Uint8Array {
  const enc = new NativeEncoder({ legion, keys: keyed ? keys : null, wallClock: () => T });
  return enc.encode(sampleAnnounce(legion));
}

describe('tampered packets', () => {
  it('every truncation of a plaintext packet is ERR_TRUNCATED', () => {
    const p = packet(false);
    const dec = new NativeDecoder({ legion, keys: null });
    for (let n = 0; n < p.length; n++) {
      expect(
        codeOf(() => dec.decode(p.subarray(0, n), T)),
        `length ${n}`,
      ).toBe('ERR_TRUNCATED');
    }
    expect(dec.decode(p, T).announce.name).toBe('node-a');
  });

  it('every truncation of a keyed packet is rejected', () => {
    const p = packet(true);
    const dec = new NativeDecoder({ legion, keys });
    for (let n = 0; n < p.length; n++) {
      const code = codeOf(() => dec.decode(p.subarray(0, n), T));
      expect(code, `length ${n}`).toBe(n < 36 ? 'ERR_TRUNCATED' : 'ERR_AUTH');
    }
    expect(dec.decode(p, T).announce.name).toBe('node-a');
  });

  it('every single-bit flip of a keyed packet is rejected', () => {
    const p = packet(true);
    const dec = new NativeDecoder({ legion, keys });
    const seen = new Set<string>();
    for (let bit = 0; bit < p.length * 8; bit++) {
      const q = p.slice();
      q[bit >> 3] = q[bit >> 3]! ^ (1 << (bit & 7));
      const code = codeOf(() => dec.decode(q, T));
      expect(['ERR_BAD_MAGIC', 'ERR_VERSION', 'ERR_MALFORMED', 'ERR_AUTH']).toContain(code);
      seen.add(code);
    }
    expect(seen).toEqual(new Set(['ERR_BAD_MAGIC', 'ERR_VERSION', 'ERR_MALFORMED', 'ERR_AUTH']));
    // none of the flips touched the guard: the genuine packet still goes through
    expect(dec.decode(p, T).envelope.seq).toBe(1n);
  });

  it('trailing bytes are refused, in both modes', () => {
    for (const keyed of [false, true]) {
      const p = packet(keyed);
      const q = new Uint8Array(p.length + 1);
      q.set(p);
      const dec = new NativeDecoder({ legion, keys: keyed ? keys : null });
      expect(codeOf(() => dec.decode(q, T))).toBe(keyed ? 'ERR_AUTH' : 'ERR_MALFORMED');
    }
  });

  it('plaintext body checks: unknown flag bits, bad vote byte, bad utf-8', () => {
    const p = packet(false);
    const a = sampleAnnounce(legion);
    const nameAt = 4 + 16 + 1 + legion.length + 16;
    const voteAt = nameAt + 1 + a.name.length + 16;
    const flagsAt = voteAt + 1 + 16;
    const dec = new NativeDecoder({ legion, keys: null });
    const edit = (at: number, v: number) => {
      const q = p.slice();
      q[at] = v;
      return q;
    };
    expect(p[flagsAt]).toBe(0b1001);
    expect(codeOf(() => dec.decode(edit(flagsAt, 0x29), T))).toBe('ERR_MALFORMED'); // 0x20 is no flag; 0x10 is observer
    expect(p[voteAt]).toBe(1);
    expect(codeOf(() => dec.decode(edit(voteAt, 2), T))).toBe('ERR_MALFORMED');
    expect(codeOf(() => dec.decode(edit(nameAt + 1, 0xff), T))).toBe('ERR_MALFORMED');
    expect(codeOf(() => dec.decode(edit(2, 2), T))).toBe('ERR_VERSION');
    expect(codeOf(() => dec.decode(edit(3, 7), T))).toBe('ERR_MALFORMED');
    expect(codeOf(() => dec.decode(edit(0, 0x4d), T))).toBe('ERR_BAD_MAGIC');
  });
});
