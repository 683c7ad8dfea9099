/** The earliest moment anything could change without new input; the shell ticks then. */
import { expiresAtMs, leaseMs } from './liveness.js';
import type { Step } from './step.js';

/** Expiry tests are `now - t > tolerance`, so the first instant they flip is strictly after. */
const AFTER_MS = 1;

export function planWake(st: Step): number {
  const { s, now } = st;
  if (s.phase === 'starting' || s.phase === 'dead') return Number.POSITIVE_INFINITY;
  const times: number[] = [s.nextAnnounceMs, s.noLordUntilMs];
  if (s.lordEventAtMs !== null) times.push(s.lordEventAtMs);
  if (s.drainingUntilMs !== null) times.push(s.drainingUntilMs);
  if (s.best && s.params.preemptDelayMs > 0) times.push(s.best.sinceMs + s.params.preemptDelayMs);
  for (const p of s.peers.values()) {
    times.push(expiresAtMs(st, p) + AFTER_MS);
    if (p.vote === s.params.uuid) times.push(p.lastDirectMs + leaseMs(s.params) + AFTER_MS);
  }
  let wake = Number.POSITIVE_INFINITY;
  for (const t of times) if (t > now && t < wake) wake = t;
  return wake;
}
