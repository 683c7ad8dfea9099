/**
 * A node whose own event loop stalled (SIGSTOP, a long GC) must neither keep a lease it can no
 * longer prove nor blame its peers for the silence it caused.
 */

import { votesForSelf } from './quorum.js';
import { stepDown } from './release.js';
import { log, type Step } from './step.js';

export function stallThresholdMs(intervalMs: number, toleranceMs: number): number {
  return Math.max(2 * intervalMs, toleranceMs / 2);
}

/** Runs before the input is applied: packets queued during the pause must not renew the lease. */
export function checkStall(st: Step): void {
  const { s, now } = st;
  const gap = now - s.lastStepMs;
  if (gap <= stallThresholdMs(s.params.intervalMs, s.params.toleranceMs)) return;
  const wasLord = s.lord;
  if (s.phase === 'running' && s.lord && votesForSelf(st) < s.params.quorum) stepDown(st, 'lease');
  // Peers get a full tolerance from the wake-up to be heard again before they are declared dead,
  // and queued packets get an interval to be superseded before this node claims the title.
  s.stallWakeMs = now;
  s.noLordUntilMs = Math.max(s.noLordUntilMs, now + 1.5 * s.params.intervalMs);
  log(st, 'warn', 'event loop stalled', { gapMs: gap, wasLord, lord: s.lord });
}
