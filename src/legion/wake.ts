/** The earliest moment anything could change without new input; the shell ticks then. */
import { leaseHoldsUntil } from './quorum.js';
import type { Step } from './step.js';

/** Expiry tests are `now - t > tolerance`, so the first instant they flip is strictly after. */
const AFTER_MS = 1;

/** the earlier of `wake` and `t`, counting only moments still ahead */
function earliest(wake: number, t: number, now: number): number {
  return t > now && t < wake ? t : wake;
}

export function planWake(st: Step): number {
  const { s, now } = st;
  if (s.phase === 'starting' || s.phase === 'dead') return Number.POSITIVE_INFINITY;
  let wake = earliest(Number.POSITIVE_INFINITY, s.nextAnnounceMs, now);
  wake = earliest(wake, s.noLordUntilMs, now);
  if (s.lordEventAtMs !== null) wake = earliest(wake, s.lordEventAtMs, now);
  if (s.drainingUntilMs !== null) wake = earliest(wake, s.drainingUntilMs, now);
  if (s.best && s.params.preemptDelayMs > 0)
    wake = earliest(wake, s.best.sinceMs + s.params.preemptDelayMs, now);
  // the peer table's liveness floor is a lower bound: at worst a tick comes early, rescans and
  // finds nothing due, where looping over every peer at every step would cost O(N) each time
  const expiry = Math.max(s.peers.livenessFloor, s.stallWakeMs) + s.params.toleranceMs + AFTER_MS;
  wake = earliest(wake, expiry, now);
  if (s.lord) wake = earliest(wake, leaseHoldsUntil(st) + AFTER_MS, now);
  return wake;
}
