import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isLegiondError } from '../../src/errors.js';
import { parseHostPort } from '../../src/transport/address.js';

function codeOf(f: () => unknown): string | undefined {
  try {
    f();
  } catch (e) {
    return isLegiondError(e) ? e.code : `not a LegiondError: ${String(e)}`;
  }
  return undefined;
}

describe('parseHostPort', () => {
  it('parses IPv4, bracketed IPv6 and names', () => {
    expect(parseHostPort('127.0.0.1:4000')).toEqual({ host: '127.0.0.1', port: 4000 });
    expect(parseHostPort('[::1]:4000')).toEqual({ host: '::1', port: 4000 });
    expect(parseHostPort('[fe80::1%lo]:1')).toEqual({ host: 'fe80::1%lo', port: 1 });
    expect(parseHostPort('node-2.example.org:65535')).toEqual({ host: 'node-2.example.org', port: 65535 });
    expect(parseHostPort('localhost:4000')).toEqual({ host: 'localhost', port: 4000 });
  });

  it.each([
    '',
    '127.0.0.1',
    '127.0.0.1:',
    ':4000',
    '::1:4000',
    '[::1]4000',
    '[::1:4000',
    '[127.0.0.1]:4000',
    'host:0',
    'host:65536',
    'host:-1',
    'host:4e3',
    'host:40 00',
    'bad host:4000',
    'host..x:4000',
    '999.1.1.1:4000',
    '-host:4000',
  ])('refuses %j with ERR_ADDRESS', (input) => {
    expect(codeOf(() => parseHostPort(input))).toBe('ERR_ADDRESS');
  });

  it('round-trips any valid port and throws only LegiondError on any string', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 65535 }), fc.ipV4(), (port, ip) => {
        expect(parseHostPort(`${ip}:${port}`)).toEqual({ host: ip, port });
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        const code = codeOf(() => parseHostPort(s));
        expect(code === undefined || code === 'ERR_ADDRESS').toBe(true);
      }),
    );
  });
});
