import type { LegionView } from '../../legion/types.js';

/**
 * The cores' startup graces are at most 1.5 intervals (native: 1.5; uWSGI: interval × (1 + jitter
 * ≤ 0.5)), so by this many intervals a node alone has announced and heard any sitting lord's answer.
 */
export const JOIN_GRACE_INTERVALS = 2;

/**
 * Whether a legion has *joined*: it heard another member (or a lord), or its startup grace passed.
 * Lordship and quorum do not matter: a passive node or the first node of a quorum-2 legion is up
 * and doing its job. sd_notify's READY and the HTTP /readyz both mean this.
 */
export function hasJoined(v: LegionView, runningForMs: number, intervalMs: number): boolean {
  const heard = v.lord !== null || v.members.some((m) => !m.self);
  return heard || runningForMs >= JOIN_GRACE_INTERVALS * intervalMs;
}
