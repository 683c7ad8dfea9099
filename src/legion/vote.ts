/** Whom this node votes for: its best candidate, held back by preempt rules. */
import { compareCandidates, maxCandidate, type Ranked } from './compare.js';
import { burnEpochOnVoteChange } from './epoch.js';
import { selfCandidate } from './self.js';
import type { Step } from './step.js';

interface Claimant extends Ranked {
  epoch: bigint;
}

/** Live members that may be elected, self included. */
export function candidates(st: Step): Ranked[] {
  const { s } = st;
  const out: Ranked[] = [];
  for (const p of s.peers.values()) {
    if (p.valor > 0n && !p.flags.arbiter && !p.flags.draining && !p.flags.dead) out.push(p);
  }
  if (selfCandidate(st)) out.push({ valor: s.params.valor, uuid: s.params.uuid });
  return out;
}

/** The lord in office among candidates: highest epoch, then candidate order. */
export function currentLord(st: Step, cands: Ranked[]): Claimant | null {
  const { s } = st;
  const eligible = new Set(cands.map((c) => c.uuid));
  let cur: Claimant | null = null;
  const consider = (c: Claimant) => {
    if (!eligible.has(c.uuid)) return;
    if (cur === null || c.epoch > cur.epoch || (c.epoch === cur.epoch && compareCandidates(c, cur) > 0))
      cur = c;
  };
  for (const p of s.peers.values()) if (p.flags.lord) consider(p);
  if (s.lord) consider({ valor: s.params.valor, uuid: s.params.uuid, epoch: s.lordEpoch });
  return cur;
}

export function chooseVote(st: Step): void {
  const before = st.s.vote;
  pickVote(st);
  burnEpochOnVoteChange(st, before);
}

function pickVote(st: Step): void {
  const { s, now } = st;
  const cands = candidates(st);
  const best = maxCandidate(cands);
  if (best?.uuid !== s.best?.uuid) s.best = best ? { uuid: best.uuid, sinceMs: now } : null;
  if (!best || !s.best) {
    s.vote = null;
    return;
  }
  const cur = currentLord(st, cands);
  if (!s.params.preempt) {
    s.vote = cur ? cur.uuid : best.uuid;
    return;
  }
  const waiting = cur !== null && cur.uuid !== best.uuid && now - s.best.sinceMs < s.params.preemptDelayMs;
  s.vote = waiting && cur ? cur.uuid : best.uuid;
}
