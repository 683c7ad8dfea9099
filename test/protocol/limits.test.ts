import { describe, expect, it } from 'vitest';
import { makeKeyRing } from '../../src/protocol/crypto.js';
import {
  DEFAULT_MAX_PACKET_BYTES,
  DEFAULT_MAX_SCROLL_BYTES,
  MAX_LEGION_NAME_BYTES,
  MAX_NODE_NAME_BYTES,
  MAX_SEEN,
  U64_MAX,
} from '../../src/protocol/limits.js';
import { NativeDecoder, NativeEncoder } from '../../src/protocol/native.js';
import type { Announce } from '../../src/protocol/types.js';
import { codeOf, sampleAnnounce } from './arbitraries.js';

const T = 1_700_000_000_000;
const legion = 'limits';
const big = 65507;
const enc = (o: { maxPacketBytes?: number; maxScrollBytes?: number; keyed?: boolean } = {}) =>
  new NativeEncoder({
    legion,
    keys: o.keyed ? makeKeyRing([new TextEncoder().encode('s')], legion) : null,
    wallClock: () => T,
    maxPacketBytes: o.maxPacketBytes,
    maxScrollBytes: o.maxScrollBytes,
  });
const a = (over: Partial<Announce>) => sampleAnnounce(legion, over);
const seenOf = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    uuid: `00000000-0000-0000-0000-${String(i).padStart(12, '0')}`,
    agoMs: i,
  }));

describe('limits on encode', () => {
  it('names over their byte limits are ERR_LIMIT (counted in utf-8 bytes, not characters)', () => {
    expect(codeOf(() => enc().encode(a({ name: 'é'.repeat(MAX_NODE_NAME_BYTES / 2 + 1) })))).toBe(
      'ERR_LIMIT',
    );
    expect(enc().encode(a({ name: 'é'.repeat(MAX_NODE_NAME_BYTES / 2) })).length).toBeGreaterThan(0);
    const longLegion = 'x'.repeat(MAX_LEGION_NAME_BYTES + 1);
    expect(codeOf(() => new NativeEncoder({ legion: longLegion, keys: null, wallClock: () => T }))).toBe(
      'ERR_LIMIT',
    );
    expect(codeOf(() => new NativeEncoder({ legion: '', keys: null, wallClock: () => T }))).toBe('ERR_LIMIT');
  });

  it('scroll over maxScrollBytes is ERR_LIMIT; exactly the limit fits the default packet with max names', () => {
    expect(codeOf(() => enc().encode(a({ scroll: new Uint8Array(DEFAULT_MAX_SCROLL_BYTES + 1) })))).toBe(
      'ERR_LIMIT',
    );
    const l = 'L'.repeat(MAX_LEGION_NAME_BYTES);
    const e = new NativeEncoder({
      legion: l,
      keys: makeKeyRing([new Uint8Array([1])], l),
      wallClock: () => T,
    });
    const p = e.encode(
      sampleAnnounce(l, {
        name: 'n'.repeat(MAX_NODE_NAME_BYTES),
        scroll: new Uint8Array(DEFAULT_MAX_SCROLL_BYTES),
      }),
    );
    expect(p.length).toBeLessThanOrEqual(DEFAULT_MAX_PACKET_BYTES);
    expect(codeOf(() => enc({ maxScrollBytes: 10 }).encode(a({ scroll: new Uint8Array(11) })))).toBe(
      'ERR_LIMIT',
    );
  });

  it('a scroll the packet limit cannot carry is ERR_TOO_LARGE', () => {
    expect(codeOf(() => enc({ maxPacketBytes: 200 }).encode(a({ scroll: new Uint8Array(500) })))).toBe(
      'ERR_TOO_LARGE',
    );
  });

  it('out-of-range integers and malformed uuids are refused', () => {
    expect(codeOf(() => enc().encode(a({ valor: U64_MAX + 1n })))).toBe('ERR_LIMIT');
    expect(codeOf(() => enc().encode(a({ valor: -1n })))).toBe('ERR_LIMIT');
    expect(codeOf(() => enc().encode(a({ epoch: 5 as unknown as bigint })))).toBe('ERR_LIMIT');
    expect(codeOf(() => enc().encode(a({ viewDigest: 2 ** 32 })))).toBe('ERR_LIMIT');
    expect(codeOf(() => enc().encode(a({ viewDigest: 1.5 })))).toBe('ERR_LIMIT');
    expect(codeOf(() => enc().encode(a({ uuid: 'ABCDEF00-0000-0000-0000-000000000000' })))).toBe(
      'ERR_MALFORMED',
    );
    expect(codeOf(() => enc().encode(a({ vote: 'not-a-uuid' })))).toBe('ERR_MALFORMED');
    expect(codeOf(() => enc().encode(a({ seen: [{ uuid: 'x', agoMs: 1 }] })))).toBe('ERR_MALFORMED');
    expect(codeOf(() => enc().encode(a({ name: 'lone \ud800 surrogate' })))).toBe('ERR_MALFORMED');
  });

  it('seen beyond MAX_SEEN is trimmed to the freshest, never sent', () => {
    const d = new NativeDecoder({ legion, keys: null, maxPacketBytes: big });
    const seen = seenOf(MAX_SEEN + 5).reverse(); // stalest first
    const out = d.decode(enc({ maxPacketBytes: big }).encode(a({ seen })), T).announce.seen;
    expect(out.length).toBe(MAX_SEEN);
    expect(Math.max(...out.map((s) => s.agoMs))).toBe(MAX_SEEN - 1);
  });

  it('a failed encode does not consume a seq', () => {
    const e = enc();
    expect(codeOf(() => e.encode(a({ valor: -1n })))).toBe('ERR_LIMIT');
    expect(new NativeDecoder({ legion, keys: null }).decode(e.encode(a({})), T).envelope.seq).toBe(1n);
  });
});

describe('limits on decode', () => {
  it('a packet over maxPacketBytes is ERR_TOO_LARGE before anything else', () => {
    const p = enc({ maxPacketBytes: big }).encode(
      a({ seen: seenOf(MAX_SEEN), scroll: new Uint8Array(1000) }),
    );
    expect(p.length).toBeGreaterThan(DEFAULT_MAX_PACKET_BYTES);
    expect(codeOf(() => new NativeDecoder({ legion, keys: null }).decode(p, T))).toBe('ERR_TOO_LARGE');
    expect(
      new NativeDecoder({ legion, keys: null, maxPacketBytes: big }).decode(p, T).announce.seen.length,
    ).toBe(MAX_SEEN);
    const junk = new Uint8Array(DEFAULT_MAX_PACKET_BYTES + 1);
    expect(codeOf(() => new NativeDecoder({ legion, keys: null }).decode(junk, T))).toBe('ERR_TOO_LARGE');
  });

  it('a scroll over the receiver limit is ERR_LIMIT', () => {
    const p = enc().encode(a({ scroll: new Uint8Array(100) }));
    expect(codeOf(() => new NativeDecoder({ legion, keys: null, maxScrollBytes: 99 }).decode(p, T))).toBe(
      'ERR_LIMIT',
    );
    expect(
      new NativeDecoder({ legion, keys: null, maxScrollBytes: 100 }).decode(p, T).announce.scroll.length,
    ).toBe(100);
  });

  it('length and count fields over their limits are ERR_LIMIT', () => {
    const ann = a({ seen: [] });
    const p = enc().encode(ann);
    const legionAt = 20;
    const nameAt = legionAt + 1 + legion.length + 16;
    const seenAt = p.length - 1;
    const dec = new NativeDecoder({ legion, keys: null });
    const edit = (at: number, v: number) => {
      const q = p.slice();
      q[at] = v;
      return q;
    };
    expect([p[legionAt], p[nameAt], p[seenAt]]).toEqual([legion.length, ann.name.length, 0]);
    expect(codeOf(() => dec.decode(edit(legionAt, MAX_LEGION_NAME_BYTES + 1), T))).toBe('ERR_LIMIT');
    expect(codeOf(() => dec.decode(edit(nameAt, MAX_NODE_NAME_BYTES + 1), T))).toBe('ERR_LIMIT');
    expect(codeOf(() => dec.decode(edit(seenAt, MAX_SEEN + 1), T))).toBe('ERR_LIMIT');
  });

  it('bad option values are refused at construction', () => {
    expect(codeOf(() => new NativeDecoder({ legion, keys: null, maxPacketBytes: 10 }))).toBe('ERR_LIMIT');
    expect(codeOf(() => new NativeDecoder({ legion, keys: null, maxSenders: 0 }))).toBe('ERR_LIMIT');
    expect(codeOf(() => new NativeDecoder({ legion, keys: null, maxScrollBytes: 70000 }))).toBe('ERR_LIMIT');
    expect(
      codeOf(
        () =>
          new NativeEncoder({ legion, keys: { send: new Uint8Array(3), accept: [] }, wallClock: () => T }),
      ),
    ).toBe('ERR_LIMIT');
  });
});
