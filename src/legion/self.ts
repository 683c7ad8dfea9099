/** Facts about this node that several rules share. */
import type { Step } from './step.js';

export function isDraining(st: Step): boolean {
  const until = st.s.drainingUntilMs;
  return until !== null && st.now < until;
}

/** Whether this node may be elected: running, valor > 0 and not draining. */
export function selfCandidate(st: Step): boolean {
  return st.s.phase === 'running' && st.s.params.valor > 0n && !isDraining(st);
}
