/** Hook events, built from the working state at the moment they happen. */

import { memberInfo, type Step, selfInfo } from './state.js';
import type { HookEvent, LegionEvent, MemberInfo } from './types.js';
import { lordInfo } from './vote.js';

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
  const event: LegionEvent = {
    type,
    // lord and unlord are about this node's lordship: its epoch, even if a higher one is known
    // by now (a proposal heard during lord_delay, an epoch burnt by the vote that preempted it)
    epoch: type === 'lord' || type === 'unlord' ? st.s.lordEpoch : st.s.maxEpoch,
    self: selfInfo(st),
    lord: lordInfo(st),
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
