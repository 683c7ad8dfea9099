/** Vote counting. Arbiters count; a peer's vote counts only while we hear the peer directly. */
import { voteFresh } from './liveness.js';
import type { Step } from './step.js';

/**
 * Fresh votes for this node, its own included; with `ackEpoch`, only voters announcing exactly
 * that epoch. Voters are counted once per node name: a node restarted under a new UUID must not
 * vote twice while its old identity's vote is still fresh (names default to the host name, so a
 * shared name can only make the count stricter).
 */
export function votesForSelf(st: Step, ackEpoch?: bigint): number {
  const { s } = st;
  const me = s.params.uuid;
  if (s.vote !== me) return 0;
  const names = new Set<string>([s.params.name]);
  for (const p of s.peers.values()) {
    if (p.vote !== me || !voteFresh(st, p)) continue;
    if (ackEpoch !== undefined && p.epoch !== ackEpoch) continue;
    names.add(p.name);
  }
  return names.size;
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
