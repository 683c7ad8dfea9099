/**
 * The fencing token. A new lord takes one more than the highest epoch it knows of, so it grows
 * at every change of lord that anyone observes, across restarts too (initialEpoch).
 *
 * With a quorum the token must also be unique: two lords holding quorum must never share it,
 * even one after the other (a stale write from the first would pass the second's fence). So:
 * - a candidate with enough votes first proposes maxEpoch + 1 and announces it;
 * - it takes the title only when quorum voters announce exactly that epoch while voting for it
 *   (they learn the proposal as the highest epoch they know, and announce at once);
 * - a voter's new vote goes out at an epoch above every one its old vote went out with: it burns
 *   maxEpoch + 1 unless it already knows a higher epoch than its last announce carried, so an
 *   acknowledgement it gave one candidate can never be counted by another at the same epoch.
 * Any two quorums share a voter, and that voter announced at most one vote per epoch.
 */

import type { Step } from './state.js';

export function observeEpoch(st: Step, epoch: bigint): void {
  if (epoch > st.s.maxEpoch) st.s.maxEpoch = epoch;
}

export function takeNextEpoch(st: Step): bigint {
  const e = st.s.maxEpoch + 1n;
  st.s.maxEpoch = e;
  st.s.lordEpoch = e;
  return e;
}

/**
 * Voting for someone else now: what we acknowledged before must not count for them, so the new
 * vote must go out at an epoch above every one the old vote went out with. Only a vote that went
 * out can have been counted, so moving away from one never announced burns nothing:
 * a node hearing a thousand others start changes its vote at every better candidate, and
 * burning at each change spread a different epoch from every node, which cost a legion of
 * 1000 two or three extra rounds of announces before its first lord.
 */
export function burnEpochOnVoteChange(st: Step, before: string | null): void {
  const { s } = st;
  if (s.params.quorum <= 1 || before === null || before === s.vote) return;
  const sent = s.lastSent;
  if (sent === null || sent.vote !== before) return;
  // the new vote goes out at maxEpoch: already above every epoch the old one went out with, it
  // needs nothing burnt. A voter that missed a candidate's first announces and learns of it from
  // its proposal then acknowledges that proposal; burning above it made the candidate renew, and
  // every voter acknowledge again (a round of N² packets).
  if (s.maxEpoch > sent.epoch) return;
  s.maxEpoch = s.maxEpoch + 1n;
}

/** The epoch this would-be lord asks its voters to acknowledge, renewed if anyone knows higher. */
export function proposal(st: Step): bigint {
  const { s } = st;
  if (s.proposedEpoch === null || s.maxEpoch > s.proposedEpoch) {
    s.proposedEpoch = s.maxEpoch + 1n;
    s.maxEpoch = s.proposedEpoch;
  }
  return s.proposedEpoch;
}

/** The title is taken under the acknowledged proposal. */
export function takeProposedEpoch(st: Step, epoch: bigint): bigint {
  st.s.proposedEpoch = null;
  st.s.lordEpoch = epoch;
  return epoch;
}
