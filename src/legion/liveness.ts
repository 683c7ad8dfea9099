/** Liveness arithmetic shared by membership, quorum, events and wake-up planning. */
import type { PeerRecord } from './state.js';
import type { Step } from './step.js';

/** The latest moment anyone live is known to have heard the peer directly. */
export function liveness(p: PeerRecord): number {
  return Math.max(p.lastDirectMs, p.attestedMs);
}

/** When the peer counts as dead: a stall of our own postpones it (see stall.ts). */
export function expiresAtMs(st: Step, p: PeerRecord): number {
  return Math.max(liveness(p), st.s.stallWakeMs) + st.s.params.toleranceMs;
}

/**
 * How long a vote stays fresh: shorter than the tolerance by a little more than one announce
 * interval, so a lord cut off from its voters steps down before they can declare it dead and
 * elect another (they heard its last announce at most one interval before it heard their votes).
 */
export function leaseMs(params: { toleranceMs: number; intervalMs: number }): number {
  return Math.max(params.intervalMs, params.toleranceMs - 1.2 * params.intervalMs);
}

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
 * The last instant `p`'s vote is fresh if nothing more is heard. voteFresh and the lease cache
 * (quorum.ts) both compare against it, so they agree to the last bit of a fractional time.
 */
export function voteFreshUntil(p: PeerRecord, lease: number, toleranceMs: number): number {
  return Math.max(p.lastDirectMs + lease, Math.min(p.lastDirectMs + toleranceMs, p.attestedMs + lease));
}
