import { describe, expect, it } from 'vitest';
import { deriveKey, keyId, makeKeyRing, open, seal } from '../../src/protocol/crypto.js';
import { PROTOCOL_ERROR_CODES, protocolError } from '../../src/protocol/errors.js';
import { codeOf } from './arbitraries.js';

const te = new TextEncoder();

describe('key derivation and sealing', () => {
  it('deriveKey is deterministic, 32 bytes, and bound to both secret and legion', () => {
    const k = deriveKey(te.encode('s1'), 'alpha');
    expect(k.length).toBe(32);
    expect(deriveKey(te.encode('s1'), 'alpha')).toEqual(k);
    expect(deriveKey(te.encode('s1'), 'beta')).not.toEqual(k);
    expect(deriveKey(te.encode('s2'), 'alpha')).not.toEqual(k);
    expect(codeOf(() => deriveKey(new Uint8Array(0), 'alpha'))).toBe('ERR_LIMIT');
  });

  it('makeKeyRing: first secret sends, all accepted, duplicates dropped', () => {
    const r = makeKeyRing([te.encode('new'), te.encode('old'), te.encode('new')], 'l');
    expect(r.send).toEqual(deriveKey(te.encode('new'), 'l'));
    expect(r.accept).toEqual([deriveKey(te.encode('new'), 'l'), deriveKey(te.encode('old'), 'l')]);
    expect(codeOf(() => makeKeyRing([], 'l'))).toBe('ERR_LIMIT');
  });

  it('keyId is 4 bytes and differs between keys', () => {
    const a = keyId(deriveKey(te.encode('a'), 'l'));
    expect(a.length).toBe(4);
    expect(keyId(deriveKey(te.encode('b'), 'l'))).not.toEqual(a);
  });

  it('seal/open round trip; a changed aad, nonce or key is ERR_AUTH', () => {
    const key = deriveKey(te.encode('k'), 'l');
    const nonce = new Uint8Array(12).fill(7);
    const aad = te.encode('header');
    const msg = te.encode('payload bytes');
    const sealed = seal(key, nonce, aad, msg);
    expect(sealed.length).toBe(msg.length + 16);
    expect(open(key, nonce, aad, sealed)).toEqual(msg);
    expect(codeOf(() => open(key, nonce, te.encode('headeR'), sealed))).toBe('ERR_AUTH');
    expect(codeOf(() => open(key, new Uint8Array(12), aad, sealed))).toBe('ERR_AUTH');
    expect(codeOf(() => open(deriveKey(te.encode('k2'), 'l'), nonce, aad, sealed))).toBe('ERR_AUTH');
  });

  it('a refused packet is a LegiondError with its code and message but no stack, and stacks stay on elsewhere', () => {
    const e = protocolError('ERR_REPLAY', 'seq 5 after 7');
    expect(e.code).toBe('ERR_REPLAY');
    expect(e.message).toBe('seq 5 after 7');
    expect(e.stack ?? '').not.toMatch(/\n\s+at /);
    expect(new Error('other').stack).toMatch(/\n\s+at /);
  });

  it('PROTOCOL_ERROR_CODES lists the stable codes', () => {
    expect([...PROTOCOL_ERROR_CODES].sort()).toEqual(
      [
        'ERR_AUTH',
        'ERR_BAD_MAGIC',
        'ERR_LIMIT',
        'ERR_MALFORMED',
        'ERR_REPLAY',
        'ERR_TOO_LARGE',
        'ERR_TRUNCATED',
        'ERR_VERSION',
        'ERR_WRONG_LEGION',
      ].sort(),
    );
  });
});
