/** Native wire codec: ties header, payload, AEAD and replay guard together. Pure apart from node:crypto. */
import { type CipherGCM, randomBytes } from 'node:crypto';
import { type BodyLimits, type DecodedPayload, encodeWithHead, SEEN_ENTRY_BYTES, trimSeen } from './body.js';
import { utf8 } from './bytes.js';
import {
  finishSeal,
  KEY_BYTES,
  KEY_ID_BYTES,
  type KeyRing,
  keyId,
  open,
  prepareSeal,
  TAG_BYTES,
} from './crypto.js';
import { protocolError } from './errors.js';
import { type EncodedHead, encodedHead } from './head-cache.js';
import {
  KEYED_HEADER_BYTES,
  MAGIC_0,
  MAGIC_1,
  MODE_AES_256_GCM,
  MODE_PLAINTEXT,
  PLAIN_HEADER_BYTES,
  peekHeader,
  writeHeader,
} from './header.js';
import { UuidInterner } from './interner.js';
import {
  DEFAULT_MAX_PACKET_BYTES,
  DEFAULT_MAX_SCROLL_BYTES,
  MAX_LEGION_NAME_BYTES,
  MAX_PACKET_BYTES_CEILING,
  MAX_SCROLL_BYTES_CEILING,
  MAX_SEEN,
  U64_MAX,
} from './limits.js';
import { decodePayload, type PayloadContext } from './payload.js';
import { ReplayGuard } from './replay.js';
import { type Announce, type Envelope, PROTOCOL_VERSION } from './types.js';

export const NONCE_PREFIX_BYTES = 4;

export interface EncoderOptions {
  legion: string;
  /** null = insecure plaintext */
  keys: KeyRing | null;
  wallClock: () => number;
  maxPacketBytes?: number;
  maxScrollBytes?: number;
  /**
   * First 4 nonce bytes; the other 8 are the seq. Defaults to random bytes, so a restarted process
   * (seq back at 1) does not reuse nonces under the same key. Inject it for deterministic tests.
   */
  noncePrefix?: Uint8Array;
  /**
   * The seq the first packet follows (default 0). A process that reopens a legion under the same
   * UUID must continue above what peers have seen, or their replay guards drop it.
   */
  initialSeq?: bigint;
}

export interface DecoderOptions {
  legion: string;
  keys: KeyRing | null;
  /** default 30000 */
  replayWindowMs?: number;
  maxPacketBytes?: number;
  maxScrollBytes?: number;
  /** bound on tracked senders, default 4096, evicting the least recently heard */
  maxSenders?: number;
}

export interface Decoded {
  announce: Announce;
  envelope: Envelope;
}

function checkLegion(legion: string): void {
  const n = utf8(legion, 'legion').length;
  if (n === 0 || n > MAX_LEGION_NAME_BYTES) {
    throw protocolError('ERR_LIMIT', `legion name must be 1..${MAX_LEGION_NAME_BYTES} utf-8 bytes`);
  }
}

function packetLimit(v: number | undefined): number {
  const n = v ?? DEFAULT_MAX_PACKET_BYTES;
  if (!Number.isInteger(n) || n < KEYED_HEADER_BYTES || n > MAX_PACKET_BYTES_CEILING) {
    throw protocolError(
      'ERR_LIMIT',
      `maxPacketBytes must be an integer in ${KEYED_HEADER_BYTES}..${MAX_PACKET_BYTES_CEILING}`,
    );
  }
  return n;
}

function bodyLimits(maxScrollBytes: number | undefined): BodyLimits {
  const n = maxScrollBytes ?? DEFAULT_MAX_SCROLL_BYTES;
  if (!Number.isInteger(n) || n < 0 || n > MAX_SCROLL_BYTES_CEILING) {
    throw protocolError('ERR_LIMIT', `maxScrollBytes must be an integer in 0..${MAX_SCROLL_BYTES_CEILING}`);
  }
  return { maxScrollBytes: n };
}

function checkKeyRing(keys: KeyRing): void {
  const all = [keys.send, ...keys.accept];
  if (!all.every((k) => k instanceof Uint8Array && k.length === KEY_BYTES)) {
    throw protocolError('ERR_LIMIT', `keys must be ${KEY_BYTES}-byte derived keys`);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export class NativeEncoder {
  private readonly legion: string;
  private readonly send: { key: Uint8Array; id: Uint8Array; prefix: Uint8Array } | null;
  private readonly wallClock: () => number;
  private readonly maxPacketBytes: number;
  private readonly limits: BodyLimits;
  private seq = 0n;
  /** the last announce's fields and their bytes: a heartbeat repeats them */
  private head: EncodedHead | null = null;
  /** the cipher of the packet after the last one, set up ahead */
  private next: { seq: bigint; header: Uint8Array; cipher: CipherGCM } | null = null;

  constructor(o: EncoderOptions) {
    checkLegion(o.legion);
    this.legion = o.legion;
    this.wallClock = o.wallClock;
    this.seq = o.initialSeq ?? 0n;
    this.maxPacketBytes = packetLimit(o.maxPacketBytes);
    this.limits = bodyLimits(o.maxScrollBytes);
    if (o.keys === null) {
      this.send = null;
    } else {
      checkKeyRing(o.keys);
      const prefix = o.noncePrefix ?? new Uint8Array(randomBytes(NONCE_PREFIX_BYTES));
      if (prefix.length !== NONCE_PREFIX_BYTES) {
        throw protocolError('ERR_LIMIT', `noncePrefix must be ${NONCE_PREFIX_BYTES} bytes`);
      }
      this.send = { key: o.keys.send, id: keyId(o.keys.send), prefix: prefix.slice() };
    }
  }

  /** Seq of the last encoded packet (0 before the first). */
  get lastSeq(): bigint {
    return this.seq;
  }

  /**
   * Drops the stalest `seen` entries until the packet fits; throws ERR_TOO_LARGE if it cannot fit
   * even without them, ERR_LIMIT/ERR_MALFORMED for fields the wire cannot carry.
   */
  encode(a: Announce): Uint8Array {
    const { head, seen } = encodedHead(this.head, a, this.limits);
    if (a.legion !== this.legion) {
      throw protocolError(
        'ERR_WRONG_LEGION',
        `announce for legion ${a.legion}, encoder is for ${this.legion}`,
      );
    }
    // kept only once the legion is known good: a wrong one is refused at every call
    this.head = head;
    const overhead = this.send ? KEYED_HEADER_BYTES + TAG_BYTES : PLAIN_HEADER_BYTES;
    const base = overhead + 8 + 8 + head.bytes.length + 1;
    if (base > this.maxPacketBytes) {
      throw protocolError(
        'ERR_TOO_LARGE',
        `announce needs ${base} bytes, packet limit ${this.maxPacketBytes}`,
      );
    }
    const room = Math.min(MAX_SEEN, Math.floor((this.maxPacketBytes - base) / SEEN_ENTRY_BYTES));
    const kept = trimSeen(seen, room);
    const now = this.wallClock();
    if (!Number.isFinite(now) || now < 0) throw protocolError('ERR_LIMIT', `wall clock returned ${now}`);
    if (this.seq >= U64_MAX) throw protocolError('ERR_LIMIT', 'sequence number exhausted');
    const seq = this.seq + 1n;
    const payload = encodeWithHead({ seq, sentAtMs: Math.floor(now) }, head.bytes, kept);
    this.seq = seq;
    if (!this.send) return concat(writeHeader(MODE_PLAINTEXT, null, null), payload);
    const next = this.next !== null && this.next.seq === seq ? this.next : this.prepare(seq);
    this.next = null;
    const out = concat(next.header, finishSeal(next.cipher, payload));
    if (seq < U64_MAX) this.next = this.prepare(seq + 1n);
    return out;
  }

  private prepare(seq: bigint): { seq: bigint; header: Uint8Array; cipher: CipherGCM } {
    const send = this.send!;
    const nonce = new Uint8Array(12);
    nonce.set(send.prefix);
    new DataView(nonce.buffer).setBigUint64(NONCE_PREFIX_BYTES, seq);
    const header = writeHeader(MODE_AES_256_GCM, send.id, nonce);
    return { seq, header, cipher: prepareSeal(send.key, nonce, header) };
  }
}

export class NativeDecoder {
  private readonly legion: string;
  private readonly accept: { key: Uint8Array; id: Uint8Array }[] | null;
  private readonly maxPacketBytes: number;
  private readonly limits: BodyLimits;
  readonly replay: ReplayGuard;
  private readonly payload: PayloadContext;

  constructor(o: DecoderOptions) {
    checkLegion(o.legion);
    this.legion = o.legion;
    this.maxPacketBytes = packetLimit(o.maxPacketBytes);
    this.limits = bodyLimits(o.maxScrollBytes);
    if (o.keys === null) {
      this.accept = null;
    } else {
      checkKeyRing(o.keys);
      const keys = o.keys.accept.includes(o.keys.send) ? o.keys.accept : [o.keys.send, ...o.keys.accept];
      this.accept = keys.map((key) => ({ key, id: keyId(key) }));
    }
    this.replay = new ReplayGuard({ windowMs: o.replayWindowMs, maxSenders: o.maxSenders });
    // bounded: a flood of made-up UUIDs empties it
    this.payload = {
      limits: this.limits,
      legion: this.legion,
      legionBytes: utf8(this.legion, 'legion'),
      ids: new UuidInterner(4 * this.replay.maxSenders),
    };
  }

  /** Authenticates and parses, without replay or legion checks and without touching the guard. */
  inspect(bytes: Uint8Array): Decoded {
    // the common case read inline; anything else goes through peekHeader for its error
    if (
      !(bytes instanceof Uint8Array) ||
      bytes.length < PLAIN_HEADER_BYTES ||
      bytes[0] !== MAGIC_0 ||
      bytes[1] !== MAGIC_1 ||
      bytes[2] !== PROTOCOL_VERSION ||
      (bytes[3] !== MODE_PLAINTEXT && (bytes[3] !== MODE_AES_256_GCM || bytes.length < KEYED_HEADER_BYTES))
    ) {
      peekHeader(bytes);
      throw protocolError('ERR_MALFORMED', 'packet header refused');
    }
    if (bytes.length > this.maxPacketBytes) {
      throw protocolError('ERR_TOO_LARGE', `packet of ${bytes.length} bytes, limit ${this.maxPacketBytes}`);
    }
    let parsed: DecodedPayload;
    if (bytes[3] === MODE_PLAINTEXT) {
      if (this.accept) throw protocolError('ERR_AUTH', 'unauthenticated packet refused: keys are configured');
      parsed = decodePayload(bytes.subarray(PLAIN_HEADER_BYTES), this.payload);
    } else {
      if (!this.accept) throw protocolError('ERR_AUTH', 'authenticated packet but this node runs insecure');
      const plain = this.openSealed(bytes);
      // The nonce carries the seq; a mismatch means a sender bug (or a key holder playing games).
      // Compared as bytes before parsing: the payload starts with the seq.
      const nonceSeq = PLAIN_HEADER_BYTES + KEY_ID_BYTES + NONCE_PREFIX_BYTES;
      let same = plain.length >= 8;
      for (let i = 0; same && i < 8; i++) same = plain[i] === bytes[nonceSeq + i];
      parsed = decodePayload(plain, this.payload);
      if (!same) throw protocolError('ERR_MALFORMED', 'nonce does not carry the packet seq');
    }
    return {
      announce: parsed.announce,
      envelope: { version: PROTOCOL_VERSION, seq: parsed.seq, sentAtMs: parsed.sentAtMs },
    };
  }

  /**
   * The decoder's own copy of UUID text `s`, which packets naming that UUID will carry. A
   * receiver that registers its own UUID here first gets votes for itself that compare by
   * reference.
   */
  shared(s: string): string {
    return this.payload.ids.shared(s);
  }

  /** Full receive path; throws LegiondError with a PROTOCOL_ERROR_CODES code for any refused input. */
  decode(bytes: Uint8Array, wallNowMs: number): Decoded {
    if (bytes instanceof Uint8Array && bytes.length > this.maxPacketBytes) {
      throw protocolError('ERR_TOO_LARGE', `packet of ${bytes.length} bytes, limit ${this.maxPacketBytes}`);
    }
    return this.admit(this.inspect(bytes), wallNowMs);
  }

  /**
   * The receiver's half of `decode`, for a packet `inspect` already opened: legion and replay
   * checks against this decoder's guard. The simulator opens each broadcast once and admits it
   * at every receiver, as the sealed bytes are the same for all of them.
   */
  admit(d: Decoded, wallNowMs: number): Decoded {
    if (d.announce.legion !== this.legion) {
      throw protocolError('ERR_WRONG_LEGION', `packet for legion ${JSON.stringify(d.announce.legion)}`);
    }
    this.replay.admit(d.announce.uuid, d.envelope.seq, d.envelope.sentAtMs, wallNowMs);
    return d;
  }

  private openSealed(bytes: Uint8Array): Uint8Array {
    if (bytes.length < KEYED_HEADER_BYTES + TAG_BYTES)
      throw protocolError('ERR_TRUNCATED', 'packet shorter than its tag');
    let lastError: unknown = null;
    let aad: Uint8Array | null = null;
    for (const k of this.accept ?? []) {
      const id = k.id;
      if (
        id[0] !== bytes[PLAIN_HEADER_BYTES] ||
        id[1] !== bytes[PLAIN_HEADER_BYTES + 1] ||
        id[2] !== bytes[PLAIN_HEADER_BYTES + 2] ||
        id[3] !== bytes[PLAIN_HEADER_BYTES + 3]
      )
        continue;
      aad ??= bytes.subarray(0, KEYED_HEADER_BYTES);
      try {
        return open(
          k.key,
          bytes.subarray(PLAIN_HEADER_BYTES + KEY_ID_BYTES, KEYED_HEADER_BYTES),
          aad,
          bytes.subarray(KEYED_HEADER_BYTES),
        );
      } catch (e) {
        lastError = e; // another accepted key may share the 4-byte id
      }
    }
    throw protocolError(
      'ERR_AUTH',
      lastError ? 'packet failed authentication' : 'unknown key id',
      lastError ?? undefined,
    );
  }
}

export { deriveKey, type KeyRing, makeKeyRing } from './crypto.js';
export { PROTOCOL_ERROR_CODES } from './errors.js';
export { peekHeader } from './header.js';
