import type { LegiondConfig } from '../config/types.js';

/**
 * How long a clean shutdown may take before legiond exits anyway: the slowest legion's hold
 * timeout (unlord hooks) plus its hook timeout (death hooks) plus 5 s for the rest. At the
 * defaults (15 s + 10 s + 5 s) that is 30 s; config/legiond.service sets TimeoutStopSec above it,
 * so systemd's SIGKILL is only the backstop.
 */
export function shutdownDeadlineMs(config: LegiondConfig): number {
  return Math.max(...config.legions.map((l) => l.holdTimeoutMs + l.hookTimeoutMs + 5_000));
}
