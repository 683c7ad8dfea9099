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

/** A vote counts only while its sender was heard directly within the lease. */
export function voteFresh(st: Step, p: PeerRecord): boolean {
  return st.now - p.lastDirectMs <= leaseMs(st.s.params);
}
