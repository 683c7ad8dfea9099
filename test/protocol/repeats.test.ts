import { describe, expect, it } from 'vitest';
import { makeKeyRing } from '../../src/protocol/crypto.js';
import { UuidInterner } from '../../src/protocol/interner.js';
import { NativeDecoder, NativeEncoder } from '../../src/protocol/native.js';
import type { Announce } from '../../src/protocol/types.js';
import { uuidToBytes } from '../../src/protocol/uuid.js';
import { sampleAnnounce } from './arbitraries.js';

const T = 1_700_000_000_000;
const legion = 'repeats';

function pair(keyed: boolean) {
  const keys = keyed ? makeKeyRing([new TextEncoder().encode('s')], legion) : null;
  return {
    enc: new NativeEncoder({ legion, keys, wallClock: () => T }),
    dec: new NativeDecoder({ legion, keys }),
  };
}

/** what the decoder reuses from a sender's previous packet must never hide a change */
describe.each([false, true])('a sender repeating itself (keyed %s)', (keyed) => {
  it('changed names, scrolls of the same length, valor and epoch all come through', () => {
    const { enc, dec } = pair(keyed);
    const steps: Partial<Announce>[] = [
      {},
      { name: 'node-b' },
      { name: 'node-c' },
      { scroll: new TextEncoder().encode('{"role":"dc"}') },
      { scroll: new TextEncoder().encode('{"role":"dc"}') },
      { scroll: new Uint8Array(0) },
      { valor: 43n },
      { valor: 2n ** 40n + 43n },
      { epoch: 8n },
      { epoch: 2n ** 63n },
      { vote: null, flags: { lord: false, arbiter: true, dead: false, draining: false, observer: true } },
      { seen: [] },
    ];
    let a = sampleAnnounce(legion);
    for (const change of steps) {
      a = { ...a, ...change };
      const got = dec.decode(enc.encode(a), T).announce;
      expect(got).toEqual(a);
    }
  });

  it('an unchanged scroll is handed over as the same bytes; nobody writes it', () => {
    const { enc, dec } = pair(keyed);
    const first = dec.decode(enc.encode(sampleAnnounce(legion)), T).announce;
    const second = dec.decode(enc.encode(sampleAnnounce(legion)), T).announce;
    expect(second.scroll).toBe(first.scroll);
    expect(Object.isFrozen(second.flags)).toBe(true);
    expect(second.uuid).toBe(first.uuid);
  });

  it('two senders keep their own names and scrolls', () => {
    const { dec } = pair(keyed);
    const keys = keyed ? makeKeyRing([new TextEncoder().encode('s')], legion) : null;
    const a = sampleAnnounce(legion, { name: 'a', scroll: Uint8Array.of(1) });
    const b = sampleAnnounce(legion, {
      uuid: '0123abcd-4567-89ef-0123-456789abcdee',
      name: 'b',
      scroll: Uint8Array.of(2),
    });
    const ea = new NativeEncoder({ legion, keys, wallClock: () => T });
    const eb = new NativeEncoder({ legion, keys, wallClock: () => T });
    for (let i = 0; i < 3; i++) {
      expect(dec.decode(ea.encode(a), T).announce).toEqual(a);
      expect(dec.decode(eb.encode(b), T).announce).toEqual(b);
    }
  });
});

describe('encoder head cache', () => {
  it('a scroll changed in place is sent changed', () => {
    const { enc, dec } = pair(true);
    const scroll = Uint8Array.of(1, 2, 3);
    const a = sampleAnnounce(legion, { scroll });
    expect(dec.decode(enc.encode(a), T).announce.scroll).toEqual(Uint8Array.of(1, 2, 3));
    scroll[1] = 9;
    expect(dec.decode(enc.encode(a), T).announce.scroll).toEqual(Uint8Array.of(1, 9, 3));
  });

  it('a bad seen entry is refused even when the rest repeats', () => {
    const { enc } = pair(false);
    enc.encode(sampleAnnounce(legion));
    const bad = sampleAnnounce(legion, { seen: [{ uuid: 'not-a-uuid', agoMs: 1 }] });
    expect(() => enc.encode(bad)).toThrow(/canonical/);
  });
});

describe('UuidInterner', () => {
  const bytesOf = (text: string) => {
    const b = new Uint8Array(16);
    uuidToBytes(text, b, 0);
    return b;
  };
  const u = (i: number) => `00000000-0000-0000-0000-${i.toString(16).padStart(12, '0')}`;

  it('gives one string per UUID, the text of its bytes', () => {
    const t = new UuidInterner(64);
    const first = t.read(bytesOf(u(7)), 0);
    expect(first).toBe(u(7));
    expect(t.read(bytesOf(u(7)), 0)).toBe(first);
    expect(t.shared(u(7))).toBe(first);
    expect(t.size).toBe(1);
  });

  it('stays within its bound: a flood of new UUIDs starts it over, and every answer stays right', () => {
    const t = new UuidInterner(16);
    for (let i = 0; i < 1000; i++) {
      expect(t.read(bytesOf(u(i)), 0)).toBe(u(i));
      expect(t.size).toBeLessThanOrEqual(16);
    }
  });

  it('reads at an offset', () => {
    const t = new UuidInterner(8);
    const b = new Uint8Array(40);
    b.set(bytesOf(u(3)), 20);
    expect(t.read(b, 20)).toBe(u(3));
  });
});
