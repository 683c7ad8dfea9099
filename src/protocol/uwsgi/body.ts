/**
 * The cleartext body of a uWSGI packet: a flat list of `u16le keylen, key, u16le vallen, value`.
 * Parsing follows uWSGI's `uwsgi_hooked_parse`: a key may not be empty, a value may; every length
 * must fit in what is left. Later duplicates win, as they do in uWSGI.
 */
import { LegiondError } from '../../errors.js';
import { UWSGI_MAX_BODY } from './limits.js';

export type UwsgiField = readonly [key: string, value: Uint8Array];

const ascii = new TextEncoder();

export function encodeBody(fields: readonly UwsgiField[]): Uint8Array {
  const parts: Uint8Array[] = [];
  let size = 0;
  for (const [key, value] of fields) {
    const k = ascii.encode(key);
    if (k.length === 0 || k.length > 0xffff || value.length > 0xffff) {
      throw new LegiondError('ERR_TOO_LARGE', `uWSGI body field "${key}" does not fit a u16 length`);
    }
    parts.push(u16le(k.length), k, u16le(value.length), value);
    size += 4 + k.length + value.length;
  }
  if (size > UWSGI_MAX_BODY) {
    throw new LegiondError('ERR_TOO_LARGE', `uWSGI body of ${size} bytes exceeds ${UWSGI_MAX_BODY}`);
  }
  const out = new Uint8Array(size);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Key → value (a view into `body`). Keys are compared as latin1 so any byte string is a key. */
export function parseBody(body: Uint8Array): Map<string, Uint8Array> {
  const fields = new Map<string, Uint8Array>();
  let at = 0;
  while (at < body.length) {
    const keyLen = readU16(body, at, 'key length');
    if (keyLen === 0) throw new LegiondError('ERR_MALFORMED', `uWSGI body has an empty key at byte ${at}`);
    at += 2;
    const key = take(body, at, keyLen, 'key');
    at += keyLen;
    const valLen = readU16(body, at, 'value length');
    at += 2;
    const value = take(body, at, valLen, 'value');
    at += valLen;
    fields.set(latin1(key), value);
  }
  return fields;
}

export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return s;
}

function u16le(n: number): Uint8Array {
  return Uint8Array.of(n & 0xff, n >>> 8);
}

function readU16(body: Uint8Array, at: number, what: string): number {
  if (at + 2 > body.length) {
    throw new LegiondError('ERR_TRUNCATED', `uWSGI body ends inside a ${what} at byte ${at}`);
  }
  return body[at]! | (body[at + 1]! << 8);
}

function take(body: Uint8Array, at: number, len: number, what: string): Uint8Array {
  if (at + len > body.length) {
    throw new LegiondError('ERR_TRUNCATED', `uWSGI body ends inside a ${what} of ${len} bytes at byte ${at}`);
  }
  return body.subarray(at, at + len);
}
