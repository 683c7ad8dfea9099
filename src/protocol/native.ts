/** Native wire codec: ties header, payload, AEAD and replay guard together. Pure apart from node:crypto. */
import { randomBytes } from 'node:crypto';
import {
  type BodyLimits,
  type DecodedPayload,
  decodePayload,
  encodePayload,
  payloadBytes,
  prepareBody,
  SEEN_ENTRY_BYTES,
  trimSeen,
} from './body.js';
import { utf8 } from './bytes.js';
import { KEY_BYTES, type KeyRing, keyId, open, seal, TAG_BYTES } from './crypto.js';
import { protocolError } from './errors.js';
import {
  KEYED_HEADER_BYTES,
  MODE_AES_256_GCM,
  MODE_PLAINTEXT,
  PLAIN_HEADER_BYTES,
  peekHeader,
  writeHeader,
} from './header.js';
import {
  DEFAULT_MAX_PACKET_BYTES,
  DEFAULT_MAX_SCROLL_BYTES,
  MAX_LEGION_NAME_BYTES,
  MAX_PACKET_BYTES_CEILING,
  MAX_SCROLL_BYTES_CEILING,
  MAX_SEEN,
  U64_MAX,
} from './limits.js';
import { ReplayGuard } from './replay.js';
import type { Announce, Envelope } from './types.js';

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
    const p = prepareBody(a, this.limits);
    if (a.legion !== this.legion) {
      throw protocolError(
        'ERR_WRONG_LEGION',
        `announce for legion ${a.legion}, encoder is for ${this.legion}`,
      );
    }
    const overhead = this.send ? KEYED_HEADER_BYTES + TAG_BYTES : PLAIN_HEADER_BYTES;
    const base = overhead + payloadBytes(p, 0);
    if (base > this.maxPacketBytes) {
      throw protocolError(
        'ERR_TOO_LARGE',
        `announce needs ${base} bytes, packet limit ${this.maxPacketBytes}`,
      );
    }
    const room = Math.min(MAX_SEEN, Math.floor((this.maxPacketBytes - base) / SEEN_ENTRY_BYTES));
    const seen = trimSeen(p.seen, room);
    const now = this.wallClock();
    if (!Number.isFinite(now) || now < 0) throw protocolError('ERR_LIMIT', `wall clock returned ${now}`);
    if (this.seq >= U64_MAX) throw protocolError('ERR_LIMIT', 'sequence number exhausted');
    const seq = this.seq + 1n;
    const payload = encodePayload({ seq, sentAtMs: Math.floor(now) }, p, seen);
    this.seq = seq;
    if (!this.send) return concat(writeHeader(MODE_PLAINTEXT, null, null), payload);
    const nonce = new Uint8Array(12);
    nonce.set(this.send.prefix);
    new DataView(nonce.buffer).setBigUint64(NONCE_PREFIX_BYTES, seq);
    const header = writeHeader(MODE_AES_256_GCM, this.send.id, nonce);
    return concat(header, seal(this.send.key, nonce, header, payload));
  }
}

export class NativeDecoder {
  private readonly legion: string;
  private readonly accept: { key: Uint8Array; id: Uint8Array }[] | null;
  private readonly maxPacketBytes: number;
  private readonly limits: BodyLimits;
  readonly replay: ReplayGuard;
  private readonly uuids = new Map<string, string>();
  private readonly maxInterned: number;

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
    this.maxInterned = 4 * this.replay.maxSenders;
  }

  /** Authenticates and parses, without replay or legion checks and without touching the guard. */
  inspect(bytes: Uint8Array): Decoded {
    const h = peekHeader(bytes);
    if (bytes.length > this.maxPacketBytes) {
      throw protocolError('ERR_TOO_LARGE', `packet of ${bytes.length} bytes, limit ${this.maxPacketBytes}`);
    }
    let parsed: DecodedPayload;
    if (h.mode === MODE_PLAINTEXT) {
      if (this.accept) throw protocolError('ERR_AUTH', 'unauthenticated packet refused: keys are configured');
      parsed = decodePayload(bytes.subarray(h.headerBytes), this.limits);
    } else {
      if (!this.accept) throw protocolError('ERR_AUTH', 'authenticated packet but this node runs insecure');
      parsed = decodePayload(this.openSealed(bytes, h.headerBytes, h.keyId!, h.nonce!), this.limits);
      // The nonce carries the seq; a mismatch means a sender bug (or a key holder playing games).
      if (
        new DataView(h.nonce!.buffer, h.nonce!.byteOffset, 12).getBigUint64(NONCE_PREFIX_BYTES) !== parsed.seq
      ) {
        throw protocolError('ERR_MALFORMED', 'nonce does not carry the packet seq');
      }
    }
    // this decoder's own string for its legion: every receiver compares the legion with its own
    // at every packet, and two references to one string compare at once
    if (parsed.announce.legion === this.legion) (parsed.announce as { legion: string }).legion = this.legion;
    this.internUuids(parsed.announce);
    return {
      announce: parsed.announce,
      envelope: { version: h.version, seq: parsed.seq, sentAtMs: parsed.sentAtMs },
    };
  }

  /**
   * One string per UUID across packets: the core looks members up by UUID in maps, counts votes
   * by UUID and compares votes with its own, and a string met before compares by reference where
   * a fresh copy is read character by character. The announce is freshly parsed and not yet
   * shared, so its fields are swapped in place. Bounded: a flood of made-up UUIDs empties it.
   */
  private internUuids(a: Announce): void {
    const w = a as { uuid: string; vote: string | null };
    w.uuid = this.shared(a.uuid);
    if (a.vote !== null) w.vote = this.shared(a.vote);
    for (const e of a.seen) (e as { uuid: string }).uuid = this.shared(e.uuid);
  }

  /**
   * The decoder's own copy of `s`, which packets naming that UUID will carry. A receiver that
   * registers its own UUID here first gets votes for itself that compare by reference.
   */
  shared(s: string): string {
    const known = this.uuids.get(s);
    if (known !== undefined) return known;
    if (this.uuids.size >= this.maxInterned) this.uuids.clear();
    this.uuids.set(s, s);
    return s;
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

  private openSealed(bytes: Uint8Array, headerBytes: number, id: Uint8Array, nonce: Uint8Array): Uint8Array {
    if (bytes.length < headerBytes + TAG_BYTES)
      throw protocolError('ERR_TRUNCATED', 'packet shorter than its tag');
    const aad = bytes.subarray(0, headerBytes);
    const sealed = bytes.subarray(headerBytes);
    let lastError: unknown = null;
    for (const k of this.accept ?? []) {
      if (k.id.length !== id.length || !k.id.every((v, i) => v === id[i])) continue;
      try {
        return open(k.key, nonce, aad, sealed);
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
