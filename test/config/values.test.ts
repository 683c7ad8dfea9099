import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseHostPort } from '../../src/config/address.js';
import { parseDuration } from '../../src/config/index.js';
import { parseU64 } from '../../src/config/values.js';

describe('parseDuration', () => {
  it.each<[unknown, number | null]>([
    ['250ms', 250],
    ['1s', 1000],
    ['1.5s', 1500],
    ['2m', 120_000],
    ['1h', 3_600_000],
    [0, 0],
    [300, 300],
    ['300', 300],
    ['1.5ms', null],
    ['-1s', null],
    ['1d', 86_400_000],
    ['1h30m', 5_400_000],
    ['5 m', null],
    ['s', null],
    [1.5, null],
    [-5, null],
    [true, null],
    ['600h', null],
  ])('%o -> %o', (input, expected) => {
    expect(parseDuration(input)).toBe(expected);
  });

  it('reads back any whole number of ms written in any unit that divides it', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500_000 }),
        fc.constantFrom(['ms', 1], ['s', 1000], ['m', 60_000]),
        (n, [unit, mult]) => {
          const ms = n * (mult as number);
          // beyond what setTimeout can wait, a duration is refused rather than fired at once
          const expected = ms <= 2_147_483_647 ? ms : null;
          expect(parseDuration(`${n}${unit}`)).toBe(expected);
          expect(parseDuration(ms)).toBe(expected);
        },
      ),
    );
  });
});

describe('parseU64', () => {
  it('accepts exactly 0..2^64-1 as number, bigint or decimal string', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: -(1n << 65n), max: 1n << 65n }), (n) => {
        const ok = n >= 0n && n < 1n << 64n;
        expect(parseU64(n) === n).toBe(ok);
        if (n >= 0n) expect(parseU64(n.toString()) === n).toBe(ok);
      }),
    );
  });
});

describe('parseHostPort', () => {
  it('round-trips IPv4 and bracketed IPv6 addresses', () => {
    const rules = { ipOnly: true, allowPortZero: false };
    fc.assert(
      fc.property(fc.oneof(fc.ipV4(), fc.ipV6()), fc.integer({ min: 1, max: 65535 }), (host, port) => {
        const text = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
        expect(parseHostPort(text, rules)).toEqual({ host, port });
      }),
    );
  });
});
