/** Key derivation, key ring and AES-256-GCM sealing for native packets. */
import { type CipherGCM, createCipheriv, createDecipheriv, createHash, hkdfSync } from 'node:crypto';
import { utf8 } from './bytes.js';
import { protocolError } from './errors.js';

export const KEY_BYTES = 32;
export const KEY_ID_BYTES = 4;
export const NONCE_BYTES = 12;
export const TAG_BYTES = 16;

const HKDF_SALT = new TextEncoder().encode('legiond native v1');
const HKDF_INFO_PREFIX = new TextEncoder().encode('legiond announce key\0');

/**
 * HKDF-SHA256 of the shared secret. The legion name is bound into `info`, so one secret reused across
 * legions still yields unrelated keys and a packet of one legion cannot authenticate in another.
 */
export function deriveKey(secret: Uint8Array, legion: string): Uint8Array {
  if (!(secret instanceof Uint8Array) || secret.length === 0) {
    throw protocolError('ERR_LIMIT', 'secret must be a non-empty byte string');
  }
  const name = utf8(legion, 'legion');
  const info = new Uint8Array(HKDF_INFO_PREFIX.length + name.length);
  info.set(HKDF_INFO_PREFIX);
  info.set(name, HKDF_INFO_PREFIX.length);
  return new Uint8Array(hkdfSync('sha256', secret, HKDF_SALT, info, KEY_BYTES));
}

export interface KeyRing {
  send: Uint8Array;
  /** includes `send`; rotation = several accepted keys */
  accept: Uint8Array[];
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** The first secret sends; all are accepted (deduplicated). */
export function makeKeyRing(secrets: Uint8Array[], legion: string): KeyRing {
  if (secrets.length === 0) throw protocolError('ERR_LIMIT', 'a key ring needs at least one secret');
  const keys = secrets.map((s) => deriveKey(s, legion));
  const accept: Uint8Array[] = [];
  for (const k of keys) if (!accept.some((a) => sameBytes(a, k))) accept.push(k);
  return { send: keys[0]!, accept };
}

/**
 * Public key identifier sent in the clear so the receiver picks the key without trial decryption.
 * It reveals nothing usable: it is a hash of a 256-bit key.
 */
export function keyId(key: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(key).digest().subarray(0, KEY_ID_BYTES));
}

function checkKey(key: Uint8Array): void {
  if (!(key instanceof Uint8Array) || key.length !== KEY_BYTES) {
    throw protocolError('ERR_LIMIT', `AES-256-GCM key must be ${KEY_BYTES} bytes`);
  }
}

/**
 * A cipher for one key, nonce and AAD, set up before its plaintext exists: an encoder prepares
 * the next packet's while the code is warm, since the set-up costs more than the sealing when it
 * runs cold, once per announce interval.
 */
export function prepareSeal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array): CipherGCM {
  checkKey(key);
  const c = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  c.setAAD(aad);
  return c;
}

/** Returns ciphertext followed by the 16-byte tag. */
export function seal(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
  return finishSeal(prepareSeal(key, nonce, aad), plaintext);
}

/** Seals with a cipher from prepareSeal (each one seals once). */
export function finishSeal(c: CipherGCM, plaintext: Uint8Array): Uint8Array {
  const head = c.update(plaintext);
  const tail = c.final();
  const tag = c.getAuthTag();
  const out = new Uint8Array(head.length + tail.length + TAG_BYTES);
  out.set(head);
  out.set(tail, head.length);
  out.set(tag, head.length + tail.length);
  return out;
}

/** Opens ciphertext||tag; any failure (wrong key, tampering) is ERR_AUTH. */
export function open(key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array {
  checkKey(key);
  if (sealed.length < TAG_BYTES) throw protocolError('ERR_TRUNCATED', 'sealed payload shorter than its tag');
  const split = sealed.length - TAG_BYTES;
  try {
    const d = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    d.setAuthTag(sealed.subarray(split));
    d.setAAD(aad);
    const head = d.update(sealed.subarray(0, split));
    const tail = d.final();
    if (tail.length === 0) return new Uint8Array(head.buffer, head.byteOffset, head.length);
    const out = new Uint8Array(head.length + tail.length);
    out.set(head);
    out.set(tail, head.length);
    return out;
  } catch (e) {
    throw protocolError('ERR_AUTH', 'packet failed authentication', e);
  }
}
