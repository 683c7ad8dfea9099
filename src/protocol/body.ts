/**
 * Authenticated payload of a native packet (decoded by payload.ts): the envelope (seq, sentAtMs) then the announce.
 * Layout, all integers big-endian:
 *   seq u64 | sentAtMs u64 | legion u8-len utf8 | uuid 16 | name u8-len utf8 | valor u64 | epoch u64 |
 *   vote u8 (0 none, 1 present) [+16] | flags u8 (lord 1, arbiter 2, dead 4, draining 8,
 *   observer 16) | viewDigest u32 | scroll u16-len bytes |
 *   seen u8-count × (uuid 16 | agoMs u32)
 */
import { utf8, Writer } from './bytes.js';
import { protocolError } from './errors.js';
import { MAX_LEGION_NAME_BYTES, MAX_NODE_NAME_BYTES, MAX_SEEN, U32_MAX, U64_MAX } from './limits.js';
import type { Announce, AnnounceFlags, Attestation } from './types.js';
import { UUID_BYTES, uuidToBytes } from './uuid.js';

export interface BodyLimits {
  maxScrollBytes: number;
}

export interface PayloadEnvelope {
  seq: bigint;
  sentAtMs: number;
}

export interface DecodedPayload extends PayloadEnvelope {
  announce: Announce;
}

/** An announce checked against the limits, with its strings already encoded. */
export interface PreparedBody {
  announce: Announce;
  legion: Uint8Array;
  name: Uint8Array;
  seen: Attestation[];
}

export const FLAG_LORD = 1;
export const FLAG_ARBITER = 2;
export const FLAG_DEAD = 4;
export const FLAG_DRAINING = 8;
export const FLAG_OBSERVER = 16;
export const KNOWN_FLAGS = FLAG_LORD | FLAG_ARBITER | FLAG_DEAD | FLAG_DRAINING | FLAG_OBSERVER;

/** seq, sentAtMs, two length bytes, uuid, valor, epoch, vote byte, flags, digest, scroll length, seen count. */
const FIXED_PAYLOAD_BYTES = 8 + 8 + 1 + UUID_BYTES + 1 + 8 + 8 + 1 + 1 + 4 + 2 + 1;
export const SEEN_ENTRY_BYTES = UUID_BYTES + 4;

function checkU64(v: unknown, field: string): bigint {
  if (typeof v !== 'bigint' || v < 0n || v > U64_MAX) {
    throw protocolError('ERR_LIMIT', `${field} must be an unsigned 64-bit bigint`);
  }
  return v;
}

/** agoMs comes from a monotonic clock and may be fractional or huge; the wire keeps whole ms up to u32. */
function wireAgoMs(ago: unknown): number {
  if (typeof ago !== 'number' || Number.isNaN(ago))
    throw protocolError('ERR_LIMIT', 'seen.agoMs must be a number');
  return Math.min(U32_MAX, Math.max(0, Math.floor(ago)));
}

export function prepareBody(a: Announce, limits: BodyLimits): PreparedBody {
  if (a === null || typeof a !== 'object') throw protocolError('ERR_MALFORMED', 'announce must be an object');
  const legion = utf8(a.legion, 'legion');
  if (legion.length === 0 || legion.length > MAX_LEGION_NAME_BYTES) {
    throw protocolError('ERR_LIMIT', `legion name must be 1..${MAX_LEGION_NAME_BYTES} utf-8 bytes`);
  }
  const name = utf8(a.name, 'name');
  if (name.length > MAX_NODE_NAME_BYTES) {
    throw protocolError('ERR_LIMIT', `node name must be at most ${MAX_NODE_NAME_BYTES} utf-8 bytes`);
  }
  checkU64(a.valor, 'valor');
  checkU64(a.epoch, 'epoch');
  if (!Number.isInteger(a.viewDigest) || a.viewDigest < 0 || a.viewDigest > U32_MAX) {
    throw protocolError('ERR_LIMIT', 'viewDigest must be a u32');
  }
  if (!(a.scroll instanceof Uint8Array)) throw protocolError('ERR_MALFORMED', 'scroll must be a Uint8Array');
  if (a.scroll.length > limits.maxScrollBytes) {
    throw protocolError('ERR_LIMIT', `scroll is ${a.scroll.length} bytes, limit ${limits.maxScrollBytes}`);
  }
  const f = a.flags;
  if (f === null || typeof f !== 'object') throw protocolError('ERR_MALFORMED', 'flags must be an object');
  if (!Array.isArray(a.seen)) throw protocolError('ERR_MALFORMED', 'seen must be an array');
  const scratch = new Uint8Array(UUID_BYTES);
  // Validate identities up front so a bad uuid is reported even when it would later be trimmed away.
  uuidToBytes(a.uuid, scratch, 0);
  if (a.vote !== null) uuidToBytes(a.vote, scratch, 0);
  const seen = a.seen.map((s) => {
    uuidToBytes(s.uuid, scratch, 0);
    return { uuid: s.uuid, agoMs: wireAgoMs(s.agoMs) };
  });
  return { announce: a, legion, name, seen };
}

/** Payload size with `seenCount` attestations. */
export function payloadBytes(p: PreparedBody, seenCount: number): number {
  const vote = p.announce.vote === null ? 0 : UUID_BYTES;
  return (
    FIXED_PAYLOAD_BYTES +
    p.legion.length +
    p.name.length +
    vote +
    p.announce.scroll.length +
    seenCount * SEEN_ENTRY_BYTES
  );
}

/** Keeps the `keep` freshest attestations (lowest agoMs), in their original order. */
export function trimSeen(seen: Attestation[], keep: number): Attestation[] {
  if (seen.length <= keep) return seen;
  const byFreshness = seen.map((s, i) => ({ s, i })).sort((x, y) => x.s.agoMs - y.s.agoMs || x.i - y.i);
  const kept = new Set(byFreshness.slice(0, Math.max(0, keep)).map((e) => e.i));
  return seen.filter((_, i) => kept.has(i));
}

function flagsByte(f: AnnounceFlags): number {
  return (
    (f.lord ? FLAG_LORD : 0) |
    (f.arbiter ? FLAG_ARBITER : 0) |
    (f.dead ? FLAG_DEAD : 0) |
    (f.draining ? FLAG_DRAINING : 0) |
    (f.observer ? FLAG_OBSERVER : 0)
  );
}

/** The payload between the envelope and the seen count: the same bytes while the announce's fields are. */
export function encodeHead(p: PreparedBody): Uint8Array {
  const a = p.announce;
  const w = new Writer(payloadBytes(p, 0) - 8 - 8 - 1);
  w.u8(p.legion.length);
  w.raw(p.legion);
  uuidToBytes(a.uuid, w.bytes, w.pos);
  w.pos += UUID_BYTES;
  w.u8(p.name.length);
  w.raw(p.name);
  w.u64(a.valor);
  w.u64(a.epoch);
  if (a.vote === null) {
    w.u8(0);
  } else {
    w.u8(1);
    uuidToBytes(a.vote, w.bytes, w.pos);
    w.pos += UUID_BYTES;
  }
  w.u8(flagsByte(a.flags));
  w.u32(a.viewDigest);
  w.u16(a.scroll.length);
  w.raw(a.scroll);
  return w.bytes;
}

export function encodeWithHead(env: PayloadEnvelope, head: Uint8Array, seen: Attestation[]): Uint8Array {
  if (seen.length > MAX_SEEN)
    throw protocolError('ERR_LIMIT', `seen has ${seen.length} entries, limit ${MAX_SEEN}`);
  const w = new Writer(8 + 8 + head.length + 1 + seen.length * SEEN_ENTRY_BYTES);
  w.u64(env.seq);
  w.u64(BigInt(env.sentAtMs));
  w.raw(head);
  w.u8(seen.length);
  for (const s of seen) {
    uuidToBytes(s.uuid, w.bytes, w.pos);
    w.pos += UUID_BYTES;
    w.u32(s.agoMs);
  }
  return w.bytes;
}

export function encodePayload(env: PayloadEnvelope, p: PreparedBody, seen: Attestation[]): Uint8Array {
  return encodeWithHead(env, encodeHead(p), seen);
}

/**
 * What prepareBody checks of `seen`, for an announce whose other fields were checked before
 * (the encoder's head cache): the same errors in the same order.
 */
export function checkSeen(a: Announce): Attestation[] {
  if (!Array.isArray(a.seen)) throw protocolError('ERR_MALFORMED', 'seen must be an array');
  const scratch = new Uint8Array(UUID_BYTES);
  return a.seen.map((s) => {
    uuidToBytes(s.uuid, scratch, 0);
    return { uuid: s.uuid, agoMs: wireAgoMs(s.agoMs) };
  });
}
