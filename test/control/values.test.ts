import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatDuration,
  MAX_DURATION_MS,
  parseDuration,
  parseU64,
  U64_MAX,
} from '../../src/control/values.js';
import { isLegiondError } from '../../src/errors.js';

function code(f: () => unknown): string | undefined {
  try {
    f();
    return undefined;
  } catch (e) {
    return isLegiondError(e) ? e.code : 'not a LegiondError';
  }
}

describe('parseU64', () => {
  it('accepts 0..2^64-1 in decimal', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: U64_MAX }), (n) => {
        expect(parseU64(n.toString())).toBe(n);
      }),
    );
  });
  it.each([
    '',
    '-1',
    '+1',
    '1.0',
    '1e3',
    '0x10',
    ' 1',
    '18446744073709551616',
    '999999999999999999999',
    'abc',
  ])('refuses %j with ERR_INVALID_VALUE', (s) => expect(code(() => parseU64(s))).toBe('ERR_INVALID_VALUE'));
});

describe('parseDuration', () => {
  it.each([
    ['250ms', 250],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['2d', 172_800_000],
  ])('%s = %d ms', (s, ms) => expect(parseDuration(s)).toBe(ms));
  it.each(['', '30', 's', '5 m', '-5s', '0s', '1w', '30d', '5m30'])('refuses %j', (s) =>
    expect(code(() => parseDuration(s))).toBe('ERR_INVALID_VALUE'),
  );
  it('caps at the longest timer Node honours', () => {
    expect(parseDuration(`${MAX_DURATION_MS}ms`)).toBe(MAX_DURATION_MS);
    expect(code(() => parseDuration(`${MAX_DURATION_MS + 1}ms`))).toBe('ERR_INVALID_VALUE');
  });
});

describe('formatDuration', () => {
  it.each([
    [0, '0ms'],
    [120, '120ms'],
    [1000, '1.0s'],
    [59_999, '59.9s'],
    [60_000, '1m00s'],
    [185_000, '3m05s'],
    [7_800_000, '2h10m'],
  ])('%d ms → %s', (ms, text) => expect(formatDuration(ms)).toBe(text));
  it('round-trips through parseDuration for whole seconds', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 59 }), (s) => {
        expect(parseDuration(formatDuration(s * 1000))).toBe(s * 1000);
      }),
    );
  });
});
