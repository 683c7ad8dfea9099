/**
 * The encoder's copy of the last announce's fixed fields and their bytes. A heartbeat repeats
 * them, so encoding one checks and writes only its seen entries, not its strings and UUIDs again.
 */
import { type BodyLimits, checkSeen, encodeHead, prepareBody } from './body.js';
import type { Announce, AnnounceFlags, Attestation } from './types.js';

export interface EncodedHead {
  legion: string;
  uuid: string;
  name: string;
  valor: bigint;
  epoch: bigint;
  vote: string | null;
  flags: number;
  viewDigest: number;
  /** a copy: the caller may reuse its array */
  scroll: Uint8Array;
  bytes: Uint8Array;
}

function flagsOf(f: AnnounceFlags): number {
  return (
    (f.lord ? 1 : 0) | (f.arbiter ? 2 : 0) | (f.dead ? 4 : 0) | (f.draining ? 8 : 0) | (f.observer ? 16 : 0)
  );
}

function sameHead(h: EncodedHead, a: Announce): boolean {
  if (
    a === null ||
    typeof a !== 'object' ||
    a.legion !== h.legion ||
    a.uuid !== h.uuid ||
    a.name !== h.name ||
    a.valor !== h.valor ||
    a.epoch !== h.epoch ||
    a.vote !== h.vote ||
    a.viewDigest !== h.viewDigest ||
    a.flags === null ||
    typeof a.flags !== 'object' ||
    flagsOf(a.flags) !== h.flags ||
    !(a.scroll instanceof Uint8Array) ||
    a.scroll.length !== h.scroll.length
  )
    return false;
  for (let i = 0; i < h.scroll.length; i++) if (a.scroll[i] !== h.scroll[i]) return false;
  return true;
}

/**
 * The head of `a`'s payload and its checked seen entries: from `last` when the fields are the
 * same, else checked and encoded afresh (prepareBody's errors, in its order).
 */
export function encodedHead(
  last: EncodedHead | null,
  a: Announce,
  limits: BodyLimits,
): { head: EncodedHead; seen: Attestation[] } {
  if (last !== null && sameHead(last, a)) return { head: last, seen: checkSeen(a) };
  const p = prepareBody(a, limits);
  return {
    seen: p.seen,
    head: {
      legion: a.legion,
      uuid: a.uuid,
      name: a.name,
      valor: a.valor,
      epoch: a.epoch,
      vote: a.vote,
      flags: flagsOf(a.flags),
      viewDigest: a.viewDigest,
      scroll: a.scroll.slice(),
      bytes: encodeHead(p),
    },
  };
}
