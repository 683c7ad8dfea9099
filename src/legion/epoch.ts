/**
 * The fencing token. A new lord takes one more than the highest epoch it knows of, so it grows
 * at every change of lord that anyone observes, across restarts too (initialEpoch).
 */
import type { Step } from './step.js';
import { log } from './step.js';

export function observeEpoch(st: Step, epoch: bigint): void {
  if (epoch > st.s.maxEpoch) st.s.maxEpoch = epoch;
}

export function takeNextEpoch(st: Step): bigint {
  const e = st.s.maxEpoch + 1n;
  st.s.maxEpoch = e;
  st.s.lordEpoch = e;
  return e;
}

/**
 * A lord that hears of a higher epoch (say, a partition healed and the other side elected a lord
 * meanwhile) moves past it, so whoever saw that other lord sees the epoch grow when it switches.
 */
export function overtakeHigherEpoch(st: Step): void {
  const { s } = st;
  if (!s.lord || s.maxEpoch <= s.lordEpoch) return;
  const from = s.lordEpoch;
  const to = takeNextEpoch(st);
  log(st, 'warn', 'lord saw a higher epoch and moved past it', { from: from.toString(), to: to.toString() });
}
