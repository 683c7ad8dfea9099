/**
 * Clear header of a native packet, authenticated as AAD in keyed mode:
 *   magic 'LG' | version u8 | mode u8 [| keyId 4 | nonce 12]   (bracketed part only in keyed mode)
 * A keyed packet is header | AES-256-GCM(payload) | tag 16; a plaintext one is header | payload.
 */
import { KEY_ID_BYTES, NONCE_BYTES } from './crypto.js';
import { protocolError } from './errors.js';
import { PROTOCOL_VERSION } from './types.js';

export const MAGIC_0 = 0x4c; // 'L'
export const MAGIC_1 = 0x47; // 'G'
export const MODE_PLAINTEXT = 0;
export const MODE_AES_256_GCM = 1;
export const PLAIN_HEADER_BYTES = 4;
export const KEYED_HEADER_BYTES = PLAIN_HEADER_BYTES + KEY_ID_BYTES + NONCE_BYTES;

export interface PacketHeader {
  version: number;
  mode: typeof MODE_PLAINTEXT | typeof MODE_AES_256_GCM;
  /** bytes of the header (the AAD in keyed mode) */
  headerBytes: number;
  /** keyed mode only */
  keyId: Uint8Array | null;
  nonce: Uint8Array | null;
}

/** Parses and checks the clear header only; says nothing about authenticity. */
export function peekHeader(bytes: Uint8Array): PacketHeader {
  if (!(bytes instanceof Uint8Array)) throw protocolError('ERR_MALFORMED', 'packet must be a Uint8Array');
  if (bytes.length < 2) throw protocolError('ERR_TRUNCATED', 'packet shorter than its magic');
  if (bytes[0] !== MAGIC_0 || bytes[1] !== MAGIC_1)
    throw protocolError('ERR_BAD_MAGIC', 'not a legiond packet');
  if (bytes.length < PLAIN_HEADER_BYTES)
    throw protocolError('ERR_TRUNCATED', 'packet shorter than its header');
  const version = bytes[2]!;
  if (version !== PROTOCOL_VERSION) {
    throw protocolError('ERR_VERSION', `protocol version ${version}, expected ${PROTOCOL_VERSION}`);
  }
  const mode = bytes[3]!;
  if (mode === MODE_PLAINTEXT) {
    return { version, mode, headerBytes: PLAIN_HEADER_BYTES, keyId: null, nonce: null };
  }
  if (mode !== MODE_AES_256_GCM) throw protocolError('ERR_MALFORMED', `unknown packet mode ${mode}`);
  if (bytes.length < KEYED_HEADER_BYTES)
    throw protocolError('ERR_TRUNCATED', 'packet shorter than its header');
  return {
    version,
    mode,
    headerBytes: KEYED_HEADER_BYTES,
    keyId: bytes.subarray(PLAIN_HEADER_BYTES, PLAIN_HEADER_BYTES + KEY_ID_BYTES),
    nonce: bytes.subarray(PLAIN_HEADER_BYTES + KEY_ID_BYTES, KEYED_HEADER_BYTES),
  };
}

export function writeHeader(mode: number, keyId: Uint8Array | null, nonce: Uint8Array | null): Uint8Array {
  const keyed = mode === MODE_AES_256_GCM;
  const h = new Uint8Array(keyed ? KEYED_HEADER_BYTES : PLAIN_HEADER_BYTES);
  h[0] = MAGIC_0;
  h[1] = MAGIC_1;
  h[2] = PROTOCOL_VERSION;
  h[3] = mode;
  if (keyed && keyId && nonce) {
    h.set(keyId, PLAIN_HEADER_BYTES);
    h.set(nonce, PLAIN_HEADER_BYTES + KEY_ID_BYTES);
  }
  return h;
}
