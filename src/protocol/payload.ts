/**
 * The receive side of body.ts's layout, on the hot path of every node (each receives every
 * announce): one pass over the bytes with the bounds checked per field, in the order body.ts
 * writes them, and as little allocation as the Announce allows. The legion is compared as bytes
 * with the decoder's own; UUIDs are interned by their bytes (interner.ts), and a sender's name,
 * scroll, valor and epoch are reused while they repeat, so a heartbeat allocates only its seq,
 * its attestations and the objects holding them. Flags are shared frozen objects, one per byte.
 */
import {
  type BodyLimits,
  type DecodedPayload,
  FLAG_ARBITER,
  FLAG_DEAD,
  FLAG_DRAINING,
  FLAG_LORD,
  FLAG_OBSERVER,
  KNOWN_FLAGS,
} from './body.js';
import { protocolError } from './errors.js';
import type { SenderMemo, UuidInterner } from './interner.js';
import { MAX_LEGION_NAME_BYTES, MAX_NODE_NAME_BYTES, MAX_SEEN } from './limits.js';
import type { AnnounceFlags, Attestation } from './types.js';
import { UUID_BYTES } from './uuid.js';

export interface PayloadContext {
  limits: BodyLimits;
  /** the receiving decoder's legion, and its UTF-8 bytes */
  legion: string;
  legionBytes: Uint8Array;
  ids: UuidInterner;
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** a byte's flags; the core reads them and never writes them */
const FLAGS: readonly AnnounceFlags[] = Array.from({ length: KNOWN_FLAGS + 1 }, (_, fb) => {
  const f: AnnounceFlags = {
    lord: (fb & FLAG_LORD) !== 0,
    arbiter: (fb & FLAG_ARBITER) !== 0,
    dead: (fb & FLAG_DEAD) !== 0,
    draining: (fb & FLAG_DRAINING) !== 0,
  };
  if ((fb & FLAG_OBSERVER) !== 0) f.observer = true;
  return Object.freeze(f);
});

const TWO_32 = 0x1_0000_0000;
/** sentAtMs travels as a u64; above 2^53 it is no exact number */
const MAX_SAFE_HI = Math.floor(Number.MAX_SAFE_INTEGER / TWO_32);

function truncated(field: string): Error {
  return protocolError('ERR_TRUNCATED', `packet ends inside ${field}`);
}

function text(b: Uint8Array, from: number, to: number, field: string): string {
  try {
    return utf8Decoder.decode(b.subarray(from, to));
  } catch (e) {
    throw protocolError('ERR_MALFORMED', `${field} is not valid utf-8`, e);
  }
}

function u32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

function sameBytes(b: Uint8Array, from: number, known: Uint8Array): boolean {
  for (let i = 0; i < known.length; i++) if (b[from + i] !== known[i]) return false;
  return true;
}

function name(b: Uint8Array, at: number, len: number, memo: SenderMemo): string {
  const known = memo.nameBytes;
  if (known !== null && known.length === len && sameBytes(b, at, known)) return memo.name;
  const s = text(b, at, at + len, 'name');
  memo.nameBytes = b.slice(at, at + len);
  memo.name = s;
  return s;
}

/** the scroll the sender sent last while the bytes are the same (nobody writes a scroll) */
function scroll(b: Uint8Array, at: number, len: number, memo: SenderMemo): Uint8Array {
  const known = memo.scroll;
  if (known !== null && known.length === len && sameBytes(b, at, known)) return known;
  // a copy: the caller keeps the scroll, and must not pin (or see changes to) the receive buffer
  const s = b.slice(at, at + len);
  memo.scroll = s;
  return s;
}

export function decodePayload(b: Uint8Array, c: PayloadContext): DecodedPayload {
  const len = b.length;
  const view = new DataView(b.buffer, b.byteOffset, len);
  if (len < 8) throw truncated('seq');
  const seq = view.getBigUint64(0);
  if (seq === 0n) throw protocolError('ERR_MALFORMED', 'seq 0 is never sent');
  if (len < 16) throw truncated('sentAtMs');
  const sentHi = u32(b, 8);
  if (sentHi > MAX_SAFE_HI || (sentHi === MAX_SAFE_HI && u32(b, 12) > Number.MAX_SAFE_INTEGER % TWO_32))
    throw protocolError('ERR_MALFORMED', 'sentAtMs out of range');
  const sentAtMs = sentHi * TWO_32 + u32(b, 12);
  let p = 16;
  if (len < p + 1) throw truncated('legion length');
  const legionLen = b[p++]!;
  if (legionLen > MAX_LEGION_NAME_BYTES)
    throw protocolError('ERR_LIMIT', `legion name of ${legionLen} bytes`);
  if (len < p + legionLen) throw truncated('legion');
  const own = c.legionBytes;
  const legion =
    legionLen === own.length && sameBytes(b, p, own) ? c.legion : text(b, p, p + legionLen, 'legion');
  p += legionLen;
  if (len < p + UUID_BYTES) throw truncated('uuid');
  const ids = c.ids;
  const uuid = ids.readSender(b, p);
  const memo = ids.memo;
  p += UUID_BYTES;
  if (len < p + 1) throw truncated('name length');
  const nameLen = b[p++]!;
  if (nameLen > MAX_NODE_NAME_BYTES) throw protocolError('ERR_LIMIT', `node name of ${nameLen} bytes`);
  if (len < p + nameLen) throw truncated('name');
  const nodeName = name(b, p, nameLen, memo);
  p += nameLen;
  if (len < p + 8) throw truncated('valor');
  const valorHi = u32(b, p);
  const valorLo = u32(b, p + 4);
  if (valorHi !== memo.valorHi || valorLo !== memo.valorLo) {
    memo.valor = view.getBigUint64(p);
    memo.valorHi = valorHi;
    memo.valorLo = valorLo;
  }
  const valor = memo.valor;
  p += 8;
  if (len < p + 8) throw truncated('epoch');
  const epochHi = u32(b, p);
  const epochLo = u32(b, p + 4);
  if (epochHi !== memo.epochHi || epochLo !== memo.epochLo) {
    memo.epoch = view.getBigUint64(p);
    memo.epochHi = epochHi;
    memo.epochLo = epochLo;
  }
  const epoch = memo.epoch;
  p += 8;
  if (len < p + 1) throw truncated('vote flag');
  const hasVote = b[p++]!;
  if (hasVote > 1) throw protocolError('ERR_MALFORMED', `vote presence byte ${hasVote}`);
  let vote: string | null = null;
  if (hasVote === 1) {
    if (len < p + UUID_BYTES) throw truncated('vote');
    vote = ids.read(b, p);
    p += UUID_BYTES;
  }
  if (len < p + 1) throw truncated('flags');
  const fb = b[p++]!;
  if ((fb & ~KNOWN_FLAGS) !== 0)
    throw protocolError('ERR_MALFORMED', `unknown flag bits 0x${fb.toString(16)}`);
  if (len < p + 4) throw truncated('viewDigest');
  const viewDigest = u32(b, p);
  p += 4;
  if (len < p + 2) throw truncated('scroll length');
  const scrollLen = (b[p]! << 8) | b[p + 1]!;
  p += 2;
  if (scrollLen > c.limits.maxScrollBytes) {
    throw protocolError('ERR_LIMIT', `scroll of ${scrollLen} bytes, limit ${c.limits.maxScrollBytes}`);
  }
  if (len < p + scrollLen) throw truncated('scroll');
  const scrollBytes = scroll(b, p, scrollLen, memo);
  p += scrollLen;
  if (len < p + 1) throw truncated('seen count');
  const seenCount = b[p++]!;
  if (seenCount > MAX_SEEN)
    throw protocolError('ERR_LIMIT', `seen has ${seenCount} entries, limit ${MAX_SEEN}`);
  const seen: Attestation[] = [];
  for (let i = 0; i < seenCount; i++) {
    if (len < p + UUID_BYTES) throw truncated('seen uuid');
    const su = ids.read(b, p);
    p += UUID_BYTES;
    if (len < p + 4) throw truncated('seen agoMs');
    seen.push({ uuid: su, agoMs: u32(b, p) });
    p += 4;
  }
  // Trailing bytes would be unauthenticated padding a peer could use to smuggle data; refuse them.
  if (p !== len) throw protocolError('ERR_MALFORMED', `${len - p} trailing bytes`);
  return {
    seq,
    sentAtMs,
    announce: {
      legion,
      uuid,
      name: nodeName,
      valor,
      epoch,
      vote,
      flags: FLAGS[fb]!,
      viewDigest,
      scroll: scrollBytes,
      seen,
    },
  };
}
