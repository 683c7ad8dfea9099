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

/** A vote counts only while its sender was heard directly within tolerance. */
export function voteFresh(st: Step, p: PeerRecord): boolean {
  return st.now - p.lastDirectMs <= st.s.params.toleranceMs;
}
