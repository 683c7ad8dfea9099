/**
 * The vote: whom this node votes for (its best candidate, held back by preempt rules and by a
 * promise), the one rule for "lord in office" (senior), and counting the votes it holds.
 */

import { burnEpochOnVoteChange } from './epoch.js';
import { compareCandidates, isCandidatePeer, leaseMs, type Ranked, voteFreshUntil } from './peers.js';
import { memberInfo, type Step, selfCandidate, selfInfo } from './state.js';
import type { MemberInfo, PeerRecord } from './types.js';

export interface Claimant extends Ranked {
  epoch: bigint;
}

/**
 * The one rule for "lord in office" among members claiming the title: the highest epoch (the
 * latest lordship), then candidate order. The vote (currentLord) and the lord hooks are told about
 * (lordInfo) both follow it.
 */
export function senior<C extends Claimant>(cur: C | null, c: C): C {
  return cur === null || c.epoch > cur.epoch || (c.epoch === cur.epoch && compareCandidates(c, cur) > 0)
    ? c
    : cur;
}

/** The best candidate, self included; the peer table keeps its best up to date. */
export function bestCandidate(st: Step): Ranked | null {
  const { s } = st;
  const peer = s.peers.bestCandidate();
  if (!selfCandidate(st)) return peer;
  const self: Ranked = { valor: s.params.valor, uuid: s.params.uuid };
  return peer === null || compareCandidates(self, peer) > 0 ? self : peer;
}

/** The lord in office among candidates: highest epoch, then candidate order. */
export function currentLord(st: Step): Claimant | null {
  const { s } = st;
  let cur: Claimant | null = null;
  for (const uuid of s.peers.claimants) {
    const p = s.peers.get(uuid);
    if (p !== undefined && isCandidatePeer(p)) cur = senior(cur, p);
  }
  if (s.lord && selfCandidate(st))
    cur = senior(cur, { valor: s.params.valor, uuid: s.params.uuid, epoch: s.lordEpoch });
  return cur;
}

/**
 * The lord as this node sees it: the claimant it votes for, else any live claimant (highest
 * epoch, then candidate order), else none. Itself is a claimant while lord, at its highest epoch.
 * Reads the claimants only (almost always zero or one), so every step may ask; with `live`, only
 * the peers it accepts (a view skips the ones expired since the last step).
 */
export function seenLord(st: Step, live?: (p: PeerRecord) => boolean): Claimant | null {
  const { s } = st;
  let best: Claimant | null = null;
  if (s.lord) {
    best = { valor: s.params.valor, uuid: s.params.uuid, epoch: s.maxEpoch };
    if (s.vote === best.uuid) return best;
  }
  for (const uuid of s.peers.claimants) {
    const p = s.peers.get(uuid);
    if (p === undefined || (live !== undefined && !live(p))) continue;
    if (p.uuid === s.vote) return p;
    best = senior(best, p);
  }
  return best;
}

/** seenLord as a member snapshot. */
export function lordInfo(st: Step, live?: (p: PeerRecord) => boolean): MemberInfo | null {
  const c = seenLord(st, live);
  if (c === null) return null;
  const p = st.s.peers.get(c.uuid);
  return p === undefined ? selfInfo(st) : memberInfo(p);
}

/**
 * With a quorum, a vote that went out is a promise: the candidate may take the title on it (the
 * announce may still be in flight) and then holds a lease on it that the voter cannot see the
 * end of. So a voter stays with the candidate its last announce voted for while that candidate
 * lives and still votes for itself or claims the title; it moves when the candidate moves on (it
 * heard someone better and, if it was lord, its release is over) or is gone. Without this, a better candidate
 * returning from a partition was elected beside a lord still holding its lease. Preemption thus
 * goes through the sitting lord: it votes for the better candidate, releases, and its voters
 * follow. Without a quorum votes confer no lease, and this does not apply.
 */
function promisedVote(st: Step): string | null {
  const { s } = st;
  const promised = s.lastSent?.vote ?? null;
  if (s.params.quorum <= 1 || promised === null || promised === s.params.uuid || s.vote !== promised)
    return null;
  const p = s.peers.get(promised);
  // a lord handing over still claims the title while its work stops: its voters wait for that too,
  // since the candidate it hands over to may not hear the claim (a one-way partition)
  return p !== undefined && !p.flags.dead && (p.vote === promised || p.flags.lord) ? promised : null;
}

export function chooseVote(st: Step): void {
  const before = st.s.vote;
  pickVote(st);
  burnEpochOnVoteChange(st, before);
}

function pickVote(st: Step): void {
  const { s, now } = st;
  const best = bestCandidate(st);
  if (best?.uuid !== s.best?.uuid) s.best = best ? { uuid: best.uuid, sinceMs: now } : null;
  if (!best || !s.best) {
    s.vote = null;
    return;
  }
  const sticky = promisedVote(st);
  if (sticky !== null) {
    s.vote = sticky;
    return;
  }
  const cur = currentLord(st);
  if (!s.params.preempt) {
    s.vote = cur ? cur.uuid : best.uuid;
    return;
  }
  const waiting = cur !== null && cur.uuid !== best.uuid && now - s.best.sinceMs < s.params.preemptDelayMs;
  s.vote = waiting && cur ? cur.uuid : best.uuid;
}

/* Vote counting. Arbiters count; a peer's vote counts only while we hear the peer directly. */

/**
 * A vote counts while its sender was heard directly within the lease; or, on a lossy network,
 * while it was heard directly within the tolerance and others still hear it (attestation
 * within the lease). A lord cut off from its voters receives no attestations either, so it
 * still steps down when the lease runs out; a lord that merely lost a few packets does not.
 */
export function voteFresh(st: Step, p: PeerRecord): boolean {
  return st.now <= voteFreshUntil(p, leaseMs(st.s.params), st.s.params.toleranceMs);
}

/**
 * Fresh votes for this node, its own included; with `ackEpoch`, only voters announcing exactly
 * that epoch. Voters are counted once per node name: a node restarted under a new UUID must not
 * vote twice while its old identity's vote is still fresh (names default to the host name, so a
 * shared name can only make the count stricter). With `live`, only the peers it accepts count
 * (a view skips the ones expired since the last step).
 */
export function votesForSelf(st: Step, ackEpoch?: bigint, live?: (p: PeerRecord) => boolean): number {
  const { s } = st;
  const me = s.params.uuid;
  if (s.vote !== me) return 0;
  const names = new Set<string>([s.params.name]);
  for (const p of s.peers.values()) {
    if (p.vote !== me || !voteFresh(st, p)) continue;
    if (ackEpoch !== undefined && p.epoch !== ackEpoch) continue;
    if (live !== undefined && !live(p)) continue;
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
 * of lord-only work, nativeWorkLease in lordship.ts), not just whether it has passed.
 */
export function leaseHoldsUntil(st: Step, maxAgeMs = Number.POSITIVE_INFINITY): number {
  const { s } = st;
  const q = s.params.quorum;
  if (q <= 1) return Number.POSITIVE_INFINITY;
  const peers = s.peers;
  // params are replaced, never edited, when they change (machine.ts, applyCommand): identity is the key
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
