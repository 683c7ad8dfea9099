/** Vote counting. Arbiters count; a peer's vote counts only while we hear the peer directly. */
import { voteFresh } from './liveness.js';
import type { Step } from './step.js';

/** Fresh votes for this node, its own included. */
export function votesForSelf(st: Step): number {
  const { s } = st;
  const me = s.params.uuid;
  let n = s.vote === me ? 1 : 0;
  for (const p of s.peers.values()) if (p.vote === me && voteFresh(st, p)) n++;
  return n;
}

/** Whether at least `quorum` live members, self included, agree on one vote. */
export function quorumAgrees(st: Step): boolean {
  const { s } = st;
  const tally = new Map<string, number>();
  const add = (v: string | null) => {
    if (v !== null) tally.set(v, (tally.get(v) ?? 0) + 1);
  };
  add(s.vote);
  for (const p of s.peers.values()) add(p.vote);
  for (const n of tally.values()) if (n >= s.params.quorum) return true;
  return false;
}
