/** Vote counting. Arbiters count; a peer's vote counts only while we hear the peer directly. */
import { leaseMs, voteFresh, voteFreshUntil } from './liveness.js';
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

/**
 * Until when this node keeps at least `quorum` fresh votes if nothing more is heard: the
 * (quorum - 1)-th latest freshness deadline among distinct voter names (self counts once).
 * Cached in the peer table until a vote changes; news only extends deadlines, so a cached value
 * that has passed is recomputed before anyone acts on it. A cached value is a lower bound that
 * lags the news; `maxAgeMs` bounds the lag for callers that need the deadline itself (the fence
 * of lord-only work, work-lease.ts), not just whether it has passed.
 */
export function leaseHoldsUntil(st: Step, maxAgeMs = Number.POSITIVE_INFINITY): number {
  const { s } = st;
  const q = s.params.quorum;
  if (q <= 1) return Number.POSITIVE_INFINITY;
  const peers = s.peers;
  // params are replaced, never edited, when they change (commands.ts): identity is the key
  const c = peers.lease;
  if (
    c !== null &&
    c.votes === peers.votes &&
    c.params === s.params &&
    st.now <= c.until &&
    st.now - c.atMs <= maxAgeMs
  )
    return c.until;
  const lease = leaseMs(s.params);
  const byName = new Map<string, number>();
  for (const p of peers.values()) {
    if (p.vote !== s.params.uuid || p.name === s.params.name) continue;
    const until = voteFreshUntil(p, lease, s.params.toleranceMs);
    const prev = byName.get(p.name);
    if (prev === undefined || until > prev) byName.set(p.name, until);
  }
  const deadlines = [...byName.values()].sort((a, b) => b - a);
  const until = deadlines.length >= q - 1 ? deadlines[q - 2]! : Number.NEGATIVE_INFINITY;
  peers.lease = { votes: peers.votes, params: s.params, until, atMs: st.now };
  return until;
}

/** Whether at least `quorum` live members, self included, agree on one vote. */
export function quorumAgrees(st: Step): boolean {
  const { s } = st;
  const q = s.params.quorum;
  if (s.vote !== null && s.peers.tally.get(s.vote) + 1 >= q) return true;
  return s.peers.tally.max >= q;
}
