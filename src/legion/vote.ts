/** Whom this node votes for: its best candidate, held back by preempt rules. */
import { type Claimant, compareCandidates, type Ranked, senior } from './compare.js';
import { burnEpochOnVoteChange } from './epoch.js';
import { isCandidatePeer } from './peer-table.js';
import { selfCandidate } from './self.js';
import type { Step } from './step.js';

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
