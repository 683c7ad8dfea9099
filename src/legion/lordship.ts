/** Becoming lord, holding the lease, giving it up, and the delayed `lord` event. */
import { overtakeHigherEpoch, proposal, takeProposedEpoch } from './epoch.js';
import { emitEvent } from './events.js';
import { leaseHoldsUntil, quorumAgrees, votesForSelf } from './quorum.js';
import { selfCandidate } from './self.js';
import { log, type Step } from './step.js';

export function checkJoin(st: Step): void {
  if (st.s.joined || !quorumAgrees(st)) return;
  st.s.joined = true;
  log(st, 'info', 'quorum reached', { quorum: st.s.params.quorum });
  emitEvent(st, 'join');
}

/** Gives up lordship now. An `unlord` event follows only a `lord` event that went out. */
export function stepDown(st: Step, reason: string): void {
  const { s } = st;
  if (!s.lord) return;
  const announced = s.lordEventSent;
  s.lord = false;
  s.lordEventAtMs = null;
  s.lordEventSent = false;
  log(st, 'info', 'stepped down', { reason, epoch: s.lordEpoch.toString(), lordEventSent: announced });
  if (announced) emitEvent(st, 'unlord', { reason });
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
    if (reason !== null) stepDown(st, reason);
    else overtakeHigherEpoch(st);
  } else if (
    now >= s.noLordUntilMs &&
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
