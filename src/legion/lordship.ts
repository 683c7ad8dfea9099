/**
 * Lordship: becoming lord, holding the lease, giving it up (releases, stalls), the delayed `lord`
 * event, and the lease lord-only work runs under.
 */

import { buildAnnounce, currentMaterial } from './announce.js';
import { proposal, takeNextEpoch, takeProposedEpoch } from './epoch.js';
import { emitEvent } from './events.js';
import { log, type NativeState, type Step, selfCandidate } from './state.js';
import type { WorkLease } from './types.js';
import { leaseHoldsUntil, quorumAgrees, votesForSelf } from './vote.js';

export function checkJoin(st: Step): void {
  if (st.s.joined || !quorumAgrees(st)) return;
  st.s.joined = true;
  log(st, 'info', 'quorum reached', { quorum: st.s.params.quorum });
  emitEvent(st, 'join');
}

/** Why a sitting lord can no longer hold the title, or null if it can. */
export function leaseBroken(st: Step): string | null {
  const { s } = st;
  if (!selfCandidate(st)) return s.params.valor === 0n ? 'arbiter' : 'stepdown';
  if (s.vote !== s.params.uuid) return 'preempted';
  if (st.now > leaseHoldsUntil(st)) return 'lease';
  return null;
}

export function updateLordship(st: Step): void {
  const { s, now } = st;
  if (!s.lord && s.vote !== s.params.uuid) s.proposedEpoch = null;
  if (s.lord) {
    const reason = leaseBroken(st);
    // Every reason hands over through a release: the claim stands while this node's work stops,
    // and no member takes the title while a live member claims it. A lease that ran out because
    // the voters moved to a better candidate is thus sequenced too; where they cannot hear the
    // claim (a partition) the fence of lord-only work holds instead (nativeWorkLease below).
    if (reason !== null) beginRelease(st, 'stepdown', reason);
    else overtakeHigherEpoch(st);
  } else if (
    now >= s.noLordUntilMs &&
    // a live member still claims the title: its work may still run, so wait for its release
    s.peers.claimants.size === 0 &&
    selfCandidate(st) &&
    s.vote === s.params.uuid &&
    votesForSelf(st) >= s.params.quorum
  ) {
    const proposed = proposal(st);
    if (votesForSelf(st, proposed) < s.params.quorum) return;
    s.lord = true;
    const epoch = takeProposedEpoch(st, proposed);
    s.lordEventAtMs = now + s.params.lordDelayMs;
    s.lordEventSent = false;
    log(st, 'info', 'became lord', {
      epoch: epoch.toString(),
      votes: votesForSelf(st),
      lordDelayMs: s.params.lordDelayMs,
    });
  }
  emitDueLordEvent(st);
}

export function emitDueLordEvent(st: Step): void {
  const { s } = st;
  if (!s.lord || s.lordEventAtMs === null || st.now < s.lordEventAtMs) return;
  s.lordEventAtMs = null;
  s.lordEventSent = true;
  emitEvent(st, 'lord');
}

/**
 * A lord that hears of a higher epoch (say, a partition healed and the other side elected a lord
 * meanwhile) moves past it, so whoever saw that other lord sees the epoch grow when it switches.
 * Its hooks hold the old epoch as their fencing token, which a downstream system that saw the
 * other lord now rejects: as with a lock whose token was superseded, the lordship under the old
 * token ends (`unlord`, reason `epoch`) and one under the new token begins (`lord`) at once.
 */
export function overtakeHigherEpoch(st: Step): void {
  const { s } = st;
  // with a quorum an epoch is taken only once acknowledged; a sitting lord keeps the one it has
  if (!s.lord || s.maxEpoch <= s.lordEpoch || s.params.quorum > 1) return;
  const from = s.lordEpoch;
  const to = takeNextEpoch(st);
  log(st, 'warn', 'lord saw a higher epoch and moved past it', { from: from.toString(), to: to.toString() });
  if (s.lordEventSent) {
    // a pending lord event (lord_delay) simply carries the new epoch when it comes
    emitEvent(st, 'unlord', { reason: 'epoch' });
    s.lordEventSent = false;
    s.lordEventAtMs = st.now;
  }
}

/*
 * Voluntary departures. The node drops the title in its own view at once (unlord hooks start),
 * but its announces keep claiming it until the shell reports the hooks done, so peers do not
 * elect a successor while, say, the old lord still holds the virtual IP.
 */

export const DEATH_ANNOUNCE_REPEAT = 3;

/** Gives up lordship now. An `unlord` event follows only a `lord` event that went out. */
export function stepDown(st: Step, reason: string): void {
  const { s } = st;
  if (!s.lord) return;
  const announced = s.lordEventSent;
  s.lord = false;
  s.lordEventAtMs = null;
  s.lordEventSent = false;
  log(st, 'info', 'stepped down', { reason, epoch: s.lordEpoch.toString(), lordEventSent: announced });
  if (announced) emitEvent(st, 'unlord', { reason });
}

export function beginRelease(st: Step, kind: 'stepdown' | 'shutdown', reason: string): void {
  const { s } = st;
  if (s.phase === 'releasing') {
    // The pending await-hooks still answers; a shutdown then wins over a stepdown.
    if (kind === 'shutdown' && s.release && s.release.kind !== 'shutdown') s.release = { ...s.release, kind };
    return;
  }
  const frozen = currentMaterial(st);
  stepDown(st, reason);
  s.phase = 'releasing';
  s.release = { kind, frozen };
  log(st, 'info', 'releasing', { kind, reason });
  st.effects.push({ type: 'await-hooks' });
}

export function completeRelease(st: Step): void {
  const { s } = st;
  if (s.phase !== 'releasing' || !s.release) {
    log(st, 'debug', 'hooks-drained ignored: nothing to release');
    return;
  }
  const { kind } = s.release;
  s.release = null;
  if (kind === 'stepdown') {
    s.phase = 'running';
    log(st, 'info', 'released lordship', {});
    return;
  }
  die(st);
}

function die(st: Step): void {
  const { s } = st;
  const m = currentMaterial(st);
  s.vote = null;
  const packet = buildAnnounce(st, { ...m, vote: null, flags: { ...m.flags, lord: false, dead: true } });
  st.effects.push({ type: 'send', packet, repeat: DEATH_ANNOUNCE_REPEAT });
  s.phase = 'dead';
  s.lastSent = null;
  s.nextAnnounceMs = Number.POSITIVE_INFINITY;
  log(st, 'info', 'death announced', { repeat: DEATH_ANNOUNCE_REPEAT });
  emitEvent(st, 'death');
  st.effects.push({ type: 'stopped' });
}

/*
 * A node whose own event loop stalled (SIGSTOP, a long GC) must neither keep a lease it can no
 * longer prove nor blame its peers for the silence it caused.
 */

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
  s.stalls++;
  s.noLordUntilMs = Math.max(s.noLordUntilMs, now + 1.5 * s.params.intervalMs);
  log(st, 'warn', 'event loop stalled', { gapMs: gap, wasLord, lord: s.lord });
}

/*
 * The lease lord-only work runs under (see WorkLease in types.ts), read from the state without
 * changing it.
 *
 * The fence is the earliest instant another node could have been elected and started its own
 * work. Peers declare a member dead a tolerance after anyone last heard it, and nobody hears it
 * before it sends, so nobody elects a successor before our last announce + tolerance. With a
 * quorum the lease of votes ends sooner (peers.ts leaseMs: that is where this node steps down). A
 * successor's lord event comes `lord_delay` after it takes the title, so both bounds move by it.
 * The fence stands while this node's announces claim the title, which a releasing lord's still do.
 */

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
