import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLegiondError } from '../../src/errors.js';
import { type UwsgiAnnounce, UwsgiCodec } from '../../src/protocol/uwsgi/codec.js';
import { body, encrypt, NOW_MS, packet, standardFields, UUID_A, UUID_B } from './manual.js';

const secret = new TextEncoder().encode('secret');
const codec = new UwsgiCodec({ legion: 'L', cipher: 'aes-128-cbc', secret });

function codeOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (isLegiondError(e)) return e.code;
    throw e;
  }
  return 'OK';
}

const announceArb: fc.Arbitrary<UwsgiAnnounce> = fc.record({
  legion: fc.constant('L'),
  valor: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  unix: fc.integer({ min: 0, max: 2 ** 40 }),
  lord: fc.integer({ min: 0, max: 2 ** 40 }),
  name: fc
    .string({ unit: 'grapheme', minLength: 1, maxLength: 30 })
    .filter((s) => new TextEncoder().encode(s).length <= 255),
  pid: fc.integer({ min: 0, max: 0xffff_ffff }),
  uuid: fc.uuid(),
  checksum: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  lordValor: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  lordUuid: fc.oneof(fc.uuid(), fc.constant('\0'.repeat(36))),
  scroll: fc.option(fc.uint8Array({ minLength: 1, maxLength: 400 }), { nil: null }),
  dead: fc.boolean(),
});

describe('UwsgiCodec round trip', () => {
  it('decode(encode(a)) === a for any announce', () => {
    fc.assert(
      fc.property(announceArb, (a) => {
        const bytes = codec.encode(a);
        const back = codec.decode(bytes, a.unix * 1000);
        expect(back).toEqual(a);
      }),
      { numRuns: 300 },
    );
  });

  it('stamps unix and lord from the wall clock when given one', () => {
    const a: UwsgiAnnounce = {
      legion: 'L',
      valor: 5n,
      unix: 0,
      lord: 0,
      name: 'n',
      pid: 1,
      uuid: UUID_A,
      checksum: 9n,
      lordValor: 5n,
      lordUuid: UUID_A,
      scroll: null,
      dead: false,
      lordForMs: 42_000,
    };
    const back = codec.decode(codec.encode(a, NOW_MS + 999), NOW_MS);
    expect(back.unix).toBe(NOW_MS / 1000);
    // became lord 41.001 s before the stamp: in second NOW - 42
    expect(back.lord).toBe(NOW_MS / 1000 - 42);
    const notLord = codec.decode(codec.encode({ ...a, lordForMs: undefined }, NOW_MS), NOW_MS);
    expect(notLord.lord).toBe(0);
  });
});

describe('UwsgiCodec known answers (packets built by hand from the wire facts)', () => {
  it('decodes a hand-built aes-128-cbc packet with secret "secret" and no IV', () => {
    const a = codec.decode(packet(body(standardFields())), NOW_MS);
    expect(a).toEqual({
      legion: 'L',
      valor: 100n,
      unix: 1_700_000_000,
      lord: 0,
      name: 'host-a',
      pid: 4242,
      uuid: UUID_A,
      checksum: 2380n,
      lordValor: 100n,
      lordUuid: UUID_A,
      scroll: new TextEncoder().encode('hello'),
      dead: false,
    });
  });

  it('encodes byte-identically to the hand-built packet', () => {
    const hand = packet(body(standardFields({ lord: '1699999990', checksum: '18446744073709551615' })));
    // uWSGI prints u64 values with %lld: 2^64-1 travels as "-1"
    const handSigned = packet(body(standardFields({ lord: '1699999990', checksum: '-1' })));
    const a = codec.decode(hand, NOW_MS);
    expect(a.checksum).toBe((1n << 64n) - 1n);
    expect(Buffer.from(codec.encode(a))).toEqual(Buffer.from(handSigned));
    expect(codec.decode(handSigned, NOW_MS)).toEqual(a);
  });

  it('adds dead=1 only to a death announce, after the scroll', () => {
    const a = codec.decode(packet(body(standardFields())), NOW_MS);
    const dead = packet(body([...standardFields(), ['dead', '1']]));
    expect(Buffer.from(codec.encode({ ...a, dead: true }))).toEqual(Buffer.from(dead));
    const noScroll = packet(body(standardFields({ scroll: null })));
    expect(Buffer.from(codec.encode({ ...a, scroll: null }))).toEqual(Buffer.from(noScroll));
  });

  it('pads the IV string with "0" and truncates a long secret to the key length', () => {
    const opts = { cipher: 'aes-256-cbc', secret: 'k'.repeat(40), iv: 'abc', keyLen: 32 };
    const c = new UwsgiCodec({
      legion: 'L',
      cipher: 'aes-256-cbc',
      secret: new TextEncoder().encode(opts.secret),
      iv: 'abc',
    });
    const hand = packet(body(standardFields()), opts);
    const a = c.decode(hand, NOW_MS);
    expect(a.uuid).toBe(UUID_A);
    expect(Buffer.from(c.encode(a))).toEqual(Buffer.from(hand));
    expect(codeOf(() => codec.decode(hand, NOW_MS))).toBe('ERR_AUTH');
  });
});

describe('UwsgiCodec rejects', () => {
  const good = body(standardFields());
  const cases: Array<[string, () => Uint8Array, string]> = [
    ['an empty datagram', () => new Uint8Array(0), 'ERR_TRUNCATED'],
    ['a 3-byte datagram', () => Uint8Array.of(109, 0, 0), 'ERR_TRUNCATED'],
    ['another modifier1', () => Uint8Array.of(110, ...packet(good).subarray(1)), 'ERR_BAD_MAGIC'],
    ['a datagram over 65535 bytes', () => new Uint8Array(65_536).fill(109), 'ERR_TOO_LARGE'],
    ['a header with no ciphertext', () => Uint8Array.of(109, 0, 0, 0), 'ERR_AUTH'],
    ['a header length one more than the body', () => packet(good, {}, good.length + 1), 'ERR_MALFORMED'],
    ['a header length one less than the body', () => packet(good, {}, good.length - 1), 'ERR_MALFORMED'],
    [
      'bad PKCS#7 padding',
      () => {
        const clear = Buffer.concat([good, Buffer.alloc(16 - (good.length % 16), 0x11)]);
        return Uint8Array.of(109, 0, 0, 0, ...encrypt(clear, {}, false));
      },
      'ERR_AUTH',
    ],
    ['a ciphertext that is not whole blocks', () => packet(good).subarray(0, 4 + 20), 'ERR_AUTH'],
    ['another secret', () => packet(good, { secret: 'secreT' }), 'ERR_AUTH'],
    ['a missing pid', () => packet(body(standardFields({ pid: null }))), 'ERR_MALFORMED'],
    ['a missing lord_uuid', () => packet(body(standardFields({ lord_uuid: null }))), 'ERR_MALFORMED'],
    ['a 1000-byte uuid', () => packet(body(standardFields({ uuid: 'u'.repeat(1000) }))), 'ERR_MALFORMED'],
    [
      'a 35-byte lord_uuid',
      () => packet(body(standardFields({ lord_uuid: UUID_B.slice(1) }))),
      'ERR_MALFORMED',
    ],
    ['a non-numeric valor', () => packet(body(standardFields({ valor: '12a' }))), 'ERR_MALFORMED'],
    ['an empty valor', () => packet(body(standardFields({ valor: '' }))), 'ERR_MALFORMED'],
    [
      'a valor above 2^64-1',
      () => packet(body(standardFields({ valor: '18446744073709551616' }))),
      'ERR_MALFORMED',
    ],
    ['a negative unix', () => packet(body(standardFields({ unix: '-5' }))), 'ERR_MALFORMED'],
    ['a pid above 2^32-1', () => packet(body(standardFields({ pid: '4294967296' }))), 'ERR_MALFORMED'],
    ['an empty name', () => packet(body(standardFields({ name: '' }))), 'ERR_MALFORMED'],
    ['an empty key', () => packet(Buffer.concat([good, Buffer.from([0, 0, 1, 0, 0x41])])), 'ERR_MALFORMED'],
    [
      'a field running past the body',
      () => packet(Buffer.concat([good, Buffer.from([3, 0, 0x61])])),
      'ERR_TRUNCATED',
    ],
    ['a lone byte after the fields', () => packet(Buffer.concat([good, Buffer.from([1])])), 'ERR_TRUNCATED'],
    ['another legion', () => packet(body(standardFields({ legion: 'M' }))), 'ERR_WRONG_LEGION'],
    [
      'a legion that only shares a prefix',
      () => packet(body(standardFields({ legion: 'LL' }))),
      'ERR_WRONG_LEGION',
    ],
    ['a unix 61 s older than now', () => packet(body(standardFields({ unix: '1699999939' }))), 'ERR_REPLAY'],
  ];
  for (const [what, make, code] of cases) {
    it(`${what} with ${code}`, () => {
      expect(codeOf(() => codec.decode(make(), NOW_MS))).toBe(code);
    });
  }

  it('names the missing key', () => {
    expect(() => codec.decode(packet(body(standardFields({ checksum: null }))), NOW_MS)).toThrow(
      /"checksum"/,
    );
  });

  it('accepts a unix exactly at the skew limit, any unix in the future, and unknown keys', () => {
    const edge = packet(body(standardFields({ unix: '1699999940' })));
    expect(codec.decode(edge, NOW_MS).unix).toBe(1_699_999_940);
    const future = packet(body(standardFields({ unix: '1800000000' })));
    expect(codec.decode(future, NOW_MS).unix).toBe(1_800_000_000);
    const extra = packet(body([['zzz', 'q'], ...standardFields(), ['other', '']]));
    expect(codec.decode(extra, NOW_MS).uuid).toBe(UUID_A);
  });

  it('honours a custom skew tolerance', () => {
    const strict = new UwsgiCodec({ legion: 'L', cipher: 'aes-128-cbc', secret, skewToleranceSec: 5 });
    const p = packet(body(standardFields({ unix: '1699999990' })));
    expect(codeOf(() => strict.decode(p, NOW_MS))).toBe('ERR_REPLAY');
    expect(codeOf(() => codec.decode(p, NOW_MS))).toBe('OK');
  });

  it('refuses unknown and unusable ciphers at construction', () => {
    for (const cipher of ['nope', 'aes-128-gcm', 'aes-128-ecb', 'bf-cbc']) {
      expect(codeOf(() => new UwsgiCodec({ legion: 'L', cipher, secret }))).toBe('ERR_CIPHER');
    }
    expect(codeOf(() => new UwsgiCodec({ legion: 'L', cipher: 'AES-256-CBC', secret }))).toBe('OK');
  });

  it('refuses to encode what uWSGI could not use', () => {
    const a = codec.decode(packet(body(standardFields())), NOW_MS);
    expect(codeOf(() => codec.encode({ ...a, name: '' }))).toBe('ERR_MALFORMED');
    expect(codeOf(() => codec.encode({ ...a, uuid: 'short' }))).toBe('ERR_MALFORMED');
    expect(codeOf(() => codec.encode({ ...a, legion: 'M' }))).toBe('ERR_WRONG_LEGION');
    expect(codeOf(() => codec.encode({ ...a, scroll: new Uint8Array(65_000) }))).toBe('ERR_TOO_LARGE');
  });
});

describe('UwsgiCodec fuzz', () => {
  const keys = [
    'legion',
    'valor',
    'unix',
    'lord',
    'name',
    'pid',
    'uuid',
    'checksum',
    'lord_valor',
    'lord_uuid',
    'scroll',
    'dead',
    'x',
  ];
  const valueArb = fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.stringMatching(/^-?[0-9]{0,22}$/).map((s) => new TextEncoder().encode(s)),
    fc.constantFrom('L', UUID_A, '\0'.repeat(36)).map((s) => Buffer.from(s, 'latin1')),
  );
  const bodyArb = fc
    .array(fc.tuple(fc.constantFrom(...keys), valueArb), { maxLength: 14 })
    .map((fs) => body(fs.map(([k, v]) => [k, v])));
  const valid = packet(body(standardFields()));
  const inputArb = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.of(109, ...b)),
    // well-encrypted bodies of arbitrary structure reach the parser and the field checks
    fc
      .tuple(bodyArb, fc.integer({ min: -2, max: 2 }))
      .map(([b, d]) => packet(b, {}, Math.max(0, b.length + d))),
    fc
      .tuple(fc.uint8Array({ maxLength: 200 }), fc.boolean())
      .map(([b, ok]) => packet(Buffer.from(b), {}, ok ? b.length : 0)),
    fc
      .tuple(fc.nat(valid.length - 1), fc.integer({ min: 1, max: 255 }), fc.nat(valid.length))
      .map(([at, x, cut]) => {
        const m = valid.slice(0, Math.max(4, cut));
        if (at < m.length) m[at] = m[at]! ^ x;
        return m;
      }),
    // a real announce with one field replaced: often still valid, often wrong in one place
    fc
      .tuple(fc.constantFrom(...keys), fc.option(valueArb, { nil: null }))
      .map(([k, v]) => packet(body(standardFields({ [k]: v })))),
  );

  it('throws nothing but LegiondError on 20k hostile inputs', () => {
    let accepted = 0;
    const codes = new Set<string>();
    fc.assert(
      fc.property(inputArb, (bytes) => {
        try {
          codec.decode(bytes, NOW_MS);
          accepted++;
        } catch (e) {
          if (!isLegiondError(e)) throw e;
          codes.add(e.code);
        }
      }),
      { numRuns: 20_000 },
    );
    // the inputs must reach every stage, not just the header check
    expect(accepted).toBeGreaterThan(0);
    expect([...codes]).toEqual(
      expect.arrayContaining([
        'ERR_AUTH',
        'ERR_BAD_MAGIC',
        'ERR_MALFORMED',
        'ERR_TRUNCATED',
        'ERR_WRONG_LEGION',
        'ERR_REPLAY',
      ]),
    );
  });
});
