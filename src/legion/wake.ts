/** The earliest moment anything could change without new input; the shell ticks then. */
import { expiresAtMs, leaseMs } from './liveness.js';
import type { Step } from './step.js';

/** Expiry tests are `now - t > tolerance`, so the first instant they flip is strictly after. */
const AFTER_MS = 1;

export function planWake(st: Step): number {
  const { s, now } = st;
  if (s.phase === 'starting' || s.phase === 'dead') return Number.POSITIVE_INFINITY;
  // the minimum is kept inline: this runs at every step, over every peer
  let wake = Number.POSITIVE_INFINITY;
  const at = (t: number) => {
    if (t > now && t < wake) wake = t;
  };
  at(s.nextAnnounceMs);
  at(s.noLordUntilMs);
  if (s.lordEventAtMs !== null) at(s.lordEventAtMs);
  if (s.drainingUntilMs !== null) at(s.drainingUntilMs);
  if (s.best && s.params.preemptDelayMs > 0) at(s.best.sinceMs + s.params.preemptDelayMs);
  const me = s.params.uuid;
  const lease = leaseMs(s.params);
  for (const p of s.peers.values()) {
    at(expiresAtMs(st, p) + AFTER_MS);
    if (p.vote === me) {
      // the moments a vote for us can go stale (see voteFresh)
      at(p.lastDirectMs + lease + AFTER_MS);
      at(p.attestedMs + lease + AFTER_MS);
      at(p.lastDirectMs + s.params.toleranceMs + AFTER_MS);
    }
  }
  return wake;
}
