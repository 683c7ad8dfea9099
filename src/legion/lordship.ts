/** Becoming lord, holding the lease, giving it up, and the delayed `lord` event. */
import { overtakeHigherEpoch, proposal, takeProposedEpoch } from './epoch.js';
import { emitEvent } from './events.js';
import { leaseHoldsUntil, quorumAgrees, votesForSelf } from './quorum.js';
import { beginRelease } from './release.js';
import { selfCandidate } from './self.js';
import { log, type Step } from './step.js';

export function checkJoin(st: Step): void {
  if (st.s.joined || !quorumAgrees(st)) return;
  st.s.joined = true;
  log(st, 'info', 'quorum reached', { quorum: st.s.params.quorum });
  emitEvent(st, 'join');
}

/** Why a sitting lord can no longer hold the title, or null if it can. */
export function leaseBroken(st: Step): string | null {
  const { s } = st;
  if (!selfCandidate(st)) return s.params.valor === 0n ? 'arbiter' : 'stepdown';
  if (s.vote !== s.params.uuid) return 'preempted';
  if (st.now > leaseHoldsUntil(st)) return 'lease';
  return null;
}

export function updateLordship(st: Step): void {
  const { s, now } = st;
  if (!s.lord && s.vote !== s.params.uuid) s.proposedEpoch = null;
  if (s.lord) {
    const reason = leaseBroken(st);
    // Every reason hands over through a release: the claim stands while this node's work stops,
    // and no member takes the title while a live member claims it. A lease that ran out because
    // the voters moved to a better candidate is thus sequenced too; where they cannot hear the
    // claim (a partition) the fence of lord-only work holds instead (work-lease.ts).
    if (reason !== null) beginRelease(st, 'stepdown', reason);
    else overtakeHigherEpoch(st);
  } else if (
    now >= s.noLordUntilMs &&
    // a live member still claims the title: its work may still run, so wait for its release
    s.peers.claimants.size === 0 &&
    selfCandidate(st) &&
    s.vote === s.params.uuid &&
    votesForSelf(st) >= s.params.quorum
  ) {
    const proposed = proposal(st);
    if (votesForSelf(st, proposed) < s.params.quorum) return;
    s.lord = true;
    const epoch = takeProposedEpoch(st, proposed);
    s.lordEventAtMs = now + s.params.lordDelayMs;
    s.lordEventSent = false;
    log(st, 'info', 'became lord', {
      epoch: epoch.toString(),
      votes: votesForSelf(st),
      lordDelayMs: s.params.lordDelayMs,
    });
  }
  emitDueLordEvent(st);
}

export function emitDueLordEvent(st: Step): void {
  const { s } = st;
  if (!s.lord || s.lordEventAtMs === null || st.now < s.lordEventAtMs) return;
  s.lordEventAtMs = null;
  s.lordEventSent = true;
  emitEvent(st, 'lord');
}
