/**
 * Peer hints: the addresses a node sends its announces to, so that a node which joined through
 * one seed learns where everyone else is. A hint is its own datagram on the legion's socket,
 * sealed with a key derived from the legion's send key, so it never shares a nonce space with
 * announces and a node without the secret can neither read one nor have one accepted:
 *   magic 'LH' | version u8 | keyId 4 | nonce 12 | AES-256-GCM( uuid 16 | seq u64 | sentAtMs u64 |
 *   count u8 × (address u8-len ascii | port u16) ) | tag 16
 * Announces start with 'LG'; a decoder of announces drops a hint as a packet of another kind.
 */
import { hkdfSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import { Reader, utf8, Writer } from './bytes.js';
import {
  KEY_BYTES,
  KEY_ID_BYTES,
  type KeyRing,
  keyId,
  NONCE_BYTES,
  open,
  seal,
  TAG_BYTES,
} from './crypto.js';
import { protocolError } from './errors.js';
import { U64_MAX } from './limits.js';
import { UUID_BYTES, uuidFromBytes, uuidToBytes } from './uuid.js';

export const HINT_MAGIC_0 = 0x4c; // 'L'
export const HINT_MAGIC_1 = 0x48; // 'H'
const HINT_VERSION = 1;
const HEADER_BYTES = 4 + KEY_ID_BYTES + NONCE_BYTES;
/** enough for a LAN legion's worth of addresses in one datagram well under 1500 bytes */
export const MAX_HINT_ADDRESSES = 48;
const HKDF_INFO = new TextEncoder().encode('legiond peer hints v1');

export interface HintAddress {
  address: string;
  port: number;
}

export interface Hint {
  uuid: string;
  /** strictly increasing per sender */
  seq: bigint;
  sentAtMs: number;
  addresses: HintAddress[];
}

/** True when the bytes claim to be a hint (cheap; says nothing about authenticity). */
export function isHintPacket(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === HINT_MAGIC_0 && bytes[1] === HINT_MAGIC_1;
}

function hintKey(announceKey: Uint8Array): { key: Uint8Array; id: Uint8Array } {
  const key = new Uint8Array(hkdfSync('sha256', announceKey, new Uint8Array(0), HKDF_INFO, KEY_BYTES));
  return { key, id: keyId(key) };
}

// addresses travel as their text (at most 45 bytes): the receiver checks it with isIP, and no
// hand-written IPv6 packing can disagree with what dgram reports as a source address
function writeAddress(w: Writer, a: HintAddress): void {
  if (isIP(a.address) === 0)
    throw protocolError('ERR_MALFORMED', `hint address ${a.address} is not an IP address`);
  if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535)
    throw protocolError('ERR_MALFORMED', `hint port ${a.port} out of range`);
  const text = utf8(a.address, 'address');
  w.u8(text.length);
  w.raw(text);
  w.u16(a.port);
}

function readAddress(r: Reader): HintAddress {
  const address = r.utf8(r.u8('address length'), 'address');
  if (isIP(address) === 0) throw protocolError('ERR_MALFORMED', 'hint address is not an IP address');
  return { address, port: readPort(r) };
}

function readPort(r: Reader): number {
  const port = r.u16('port');
  if (port === 0) throw protocolError('ERR_MALFORMED', 'hint address with port 0');
  return port;
}

/** Seals and opens hints for one legion; stateless apart from the sending seq. */
export class HintCodec {
  private readonly send: { key: Uint8Array; id: Uint8Array };
  private readonly accept: Array<{ key: Uint8Array; id: Uint8Array }>;
  private readonly prefix = new Uint8Array(randomBytes(4));

  constructor(keys: KeyRing) {
    this.send = hintKey(keys.send);
    this.accept = [keys.send, ...keys.accept.filter((k) => k !== keys.send)].map(hintKey);
  }

  encode(h: Hint): Uint8Array {
    if (h.seq <= 0n || h.seq > U64_MAX) throw protocolError('ERR_LIMIT', 'hint seq out of range');
    const addresses = h.addresses.slice(0, MAX_HINT_ADDRESSES);
    const w = new Writer(
      UUID_BYTES + 17 + addresses.reduce((n, a) => n + 3 + Buffer.byteLength(a.address), 0),
    );
    uuidToBytes(h.uuid, w.bytes, 0);
    w.pos = UUID_BYTES;
    w.u64(h.seq);
    w.u64(BigInt(Math.max(0, Math.floor(h.sentAtMs))));
    w.u8(addresses.length);
    for (const a of addresses) writeAddress(w, a);
    const header = new Uint8Array(HEADER_BYTES);
    header.set([HINT_MAGIC_0, HINT_MAGIC_1, HINT_VERSION, 1]);
    header.set(this.send.id, 4);
    const nonce = header.subarray(4 + KEY_ID_BYTES);
    nonce.set(this.prefix);
    new DataView(nonce.buffer, nonce.byteOffset, NONCE_BYTES).setBigUint64(4, h.seq);
    const sealed = seal(this.send.key, nonce, header, w.bytes);
    const out = new Uint8Array(HEADER_BYTES + sealed.length);
    out.set(header);
    out.set(sealed, HEADER_BYTES);
    return out;
  }

  /** Throws LegiondError (ERR_BAD_MAGIC, ERR_TRUNCATED, ERR_VERSION, ERR_AUTH, ERR_MALFORMED). */
  decode(bytes: Uint8Array): Hint {
    if (!isHintPacket(bytes)) throw protocolError('ERR_BAD_MAGIC', 'not a peer hint');
    if (bytes.length < HEADER_BYTES + TAG_BYTES) throw protocolError('ERR_TRUNCATED', 'hint too short');
    if (bytes[2] !== HINT_VERSION) throw protocolError('ERR_VERSION', `hint version ${bytes[2]}`);
    const header = bytes.subarray(0, HEADER_BYTES);
    const id = header.subarray(4, 4 + KEY_ID_BYTES);
    const nonce = header.subarray(4 + KEY_ID_BYTES);
    let plain: Uint8Array | null = null;
    for (const k of this.accept) {
      if (!k.id.every((v, i) => v === id[i])) continue;
      try {
        plain = open(k.key, nonce, header, bytes.subarray(HEADER_BYTES));
        break;
      } catch {
        // another accepted key may share the 4-byte id
      }
    }
    if (plain === null) throw protocolError('ERR_AUTH', 'peer hint failed authentication');
    const r = new Reader(plain);
    const uuid = uuidFromBytes(r.raw(UUID_BYTES, 'uuid'), 0);
    const seq = r.u64('seq');
    if (new DataView(nonce.buffer, nonce.byteOffset, NONCE_BYTES).getBigUint64(4) !== seq)
      throw protocolError('ERR_MALFORMED', 'nonce does not carry the hint seq');
    const sentAtMs = Number(r.u64('sentAtMs'));
    const n = r.u8('address count');
    if (n > MAX_HINT_ADDRESSES) throw protocolError('ERR_MALFORMED', `hint with ${n} addresses`);
    const addresses: HintAddress[] = [];
    for (let i = 0; i < n; i++) addresses.push(readAddress(r));
    r.end();
    return { uuid, seq, sentAtMs, addresses };
  }
}
