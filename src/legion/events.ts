/** Hook events, built from the working state at the moment they happen. */

import { memberInfo, type Step, selfInfo } from './state.js';
import type { HookEvent, LegionEvent, MemberInfo } from './types.js';
import { lordInfo, seenLord } from './vote.js';

/** Self and every live peer, ordered by UUID so snapshots compare easily. */
export function membersSnapshot(st: Step): MemberInfo[] {
  const all = [selfInfo(st), ...[...st.s.peers.values()].map((p) => memberInfo(p))];
  return all.sort(byUuid);
}

export function byUuid(a: MemberInfo, b: MemberInfo): number {
  return a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0;
}

export function emitEvent(
  st: Step,
  type: HookEvent,
  extra: { member?: MemberInfo; reason?: string } = {},
): void {
  const lord = lordInfo(st);
  const event: LegionEvent = {
    type,
    epoch: eventEpoch(st, type, lord),
    self: selfInfo(st),
    lord,
    members: st.s.eventMembers ? membersSnapshot(st) : [],
    atMs: st.now,
  };
  // set when present rather than spread in: a forming legion makes N² member events
  if (extra.member) event.member = extra.member;
  if (extra.reason !== undefined) event.reason = extra.reason;
  st.effects.push({ type: 'event', event });
}

export function nodeEvent(
  st: Step,
  type: 'node-joined' | 'node-left',
  member: MemberInfo,
  reason?: string,
): void {
  emitEvent(st, type, reason === undefined ? { member } : { member, reason });
}

/**
 * lord and unlord are about this node's lordship: its epoch, even if a higher one is known by now
 * (a proposal heard during lord_delay, an epoch burnt by the vote that preempted it). lord-changed
 * is about the new lord: the epoch it announced, or this node's lordship's when it is the lord.
 */
function eventEpoch(st: Step, type: HookEvent, lord: MemberInfo | null): bigint {
  if (type === 'lord' || type === 'unlord') return st.s.lordEpoch;
  if (type === 'lord-changed' && lord !== null) return lord.self ? st.s.lordEpoch : lord.epoch;
  return st.s.maxEpoch;
}

/**
 * `lord-changed` when the lord this node sees (seenLord) is another member than the last event
 * named, or none. Runs at the end of every step, but reads the claimants only when something
 * seenLord depends on changed: the claimants (the peer table's `claims`), this node's lordship,
 * vote, highest epoch or valor.
 */
export function noteLordChange(st: Step): void {
  const { s } = st;
  const k = s.seenLordInputs;
  const claims = s.peers.claims;
  const valor = s.params.valor;
  if (
    k.claims === claims &&
    k.lord === s.lord &&
    k.vote === s.vote &&
    k.maxEpoch === s.maxEpoch &&
    k.valor === valor
  )
    return;
  k.claims = claims;
  k.lord = s.lord;
  k.vote = s.vote;
  k.maxEpoch = s.maxEpoch;
  k.valor = valor;
  const uuid = seenLord(st)?.uuid ?? null;
  if (uuid === st.s.seenLordUuid) return;
  st.s.seenLordUuid = uuid;
  emitEvent(st, 'lord-changed');
}

/** `scroll-changed` for `member`, whose scroll is now the one it carries. */
export function scrollChanged(st: Step, member: MemberInfo): void {
  emitEvent(st, 'scroll-changed', { member });
}
