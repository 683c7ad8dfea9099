/**
 * The lease lord-only work runs under (see WorkLease in types.ts), read from the state without
 * changing it.
 *
 * The fence is the earliest instant another node could have been elected and started its own
 * work. Peers declare a member dead a tolerance after anyone last heard it, and nobody hears it
 * before it sends, so nobody elects a successor before our last announce + tolerance. With a
 * quorum the lease of votes ends sooner (liveness.ts: that is where this node steps down). A
 * successor's lord event comes `lord_delay` after it takes the title, so both bounds move by it.
 * The fence stands while this node's announces claim the title, which a releasing lord's still do.
 */
import { leaseHoldsUntil } from './quorum.js';
import type { NativeState } from './state.js';
import type { Step } from './step.js';
import type { WorkLease } from './types.js';

function claims(s: NativeState): boolean {
  if (s.phase === 'releasing') return s.release?.frozen.flags.lord === true;
  return s.phase === 'running' && s.lord;
}

export function nativeWorkLease(s: NativeState, now: number): WorkLease | null {
  if (!claims(s) || !Number.isFinite(s.lastAnnounceMs)) return null;
  const { toleranceMs, lordDelayMs, quorum } = s.params;
  let fenceAtMs = s.lastAnnounceMs + toleranceMs + lordDelayMs;
  let votesHold = true;
  if (quorum > 1) {
    // leaseHoldsUntil only reads the table (and its cache); a Step around the state is its argument
    const st: Step = { s: s as Step['s'], now, rand: () => 0, effects: [] };
    // the table's cached lease lags by up to a lease; a quarter interval keeps the fence current
    // at a few table scans per interval, on the lord only
    const until = leaseHoldsUntil(st, s.params.intervalMs / 4);
    votesHold = now <= until;
    fenceAtMs = Math.min(fenceAtMs, until + lordDelayMs);
  }
  // After a stall this node gives itself a tolerance to hear whoever was elected meanwhile
  // before it starts anything new; what still runs is bounded by the fence alone.
  const mayStart =
    s.phase === 'running' && s.lord && s.lordEventSent && votesHold && now >= s.stallWakeMs + toleranceMs;
  return { epoch: s.lordEpoch, fenceAtMs, mayStart };
}
