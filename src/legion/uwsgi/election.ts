/**
 * uWSGI's election arithmetic (core/legion.c), as pure functions: the membership checksum, the
 * best candidate (the node's vote) and the unanimity count. Kept byte-for-byte compatible so a
 * uWSGI node and a legiond node in one legion compute the same numbers.
 */
import type { Candidate, UwsgiMember } from './types.js';

const U64 = (1n << 64n) - 1n;

/** What an arbiter with no candidate compares votes against: uWSGI's zeroed UUID buffer. */
export const NO_UUID = '\0'.repeat(36);

/** Sum of the UUID text's bytes (uWSGI adds the 36 `char`s; ours are ASCII, one byte each). */
export function uuidSum(uuid: string): bigint {
  let s = 0;
  for (let i = 0; i < uuid.length; i++) s += uuid.charCodeAt(i) & 0xff;
  return BigInt(s);
}

/** Own valor + own UUID bytes + the same for every member, in uint64 arithmetic. */
export function checksumOf(selfValor: bigint, selfUuid: string, members: readonly UwsgiMember[]): bigint {
  let sum = selfValor + uuidSum(selfUuid);
  for (const m of members) sum += m.valor + uuidSum(m.uuid);
  return sum & U64;
}

export interface Ballot {
  /** the vote we announce (lord_valor, lord_uuid): self when no member beats us, even as arbiter */
  vote: Candidate;
  /** we are a candidate (valor > 0) and no member beats us */
  selfBest: boolean;
  /** what members' votes must equal for them to count: the vote, or nothing for a lone arbiter */
  target: Candidate;
}

/** Start from self, skip arbiter members; higher valor wins, equal valor goes to the greater UUID text. */
export function ballot(selfValor: bigint, selfUuid: string, members: readonly UwsgiMember[]): Ballot {
  let best: Candidate = { valor: selfValor, uuid: selfUuid };
  let self = true;
  for (const m of members) {
    if (m.valor === 0n) continue;
    if (m.valor > best.valor || (m.valor === best.valor && m.uuid > best.uuid)) {
      best = { valor: m.valor, uuid: m.uuid };
      self = false;
    }
  }
  if (!self) return { vote: best, selfBest: false, target: best };
  if (selfValor > 0n) return { vote: best, selfBest: true, target: best };
  return { vote: best, selfBest: false, target: { valor: 0n, uuid: NO_UUID } };
}

/**
 * 1 for self plus 1 per member, but 0 as soon as one member's checksum or vote differs from ours:
 * uWSGI's quorum is unanimity among the members it can see.
 */
export function countVotes(checksum: bigint, target: Candidate, members: readonly UwsgiMember[]): number {
  let votes = 1;
  for (const m of members) {
    if (m.checksum !== checksum || m.lordValor !== target.valor || m.lordUuid !== target.uuid) return 0;
    votes++;
  }
  return votes;
}
