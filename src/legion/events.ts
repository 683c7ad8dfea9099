/** MemberInfo snapshots and hook events, built from the working state at the moment they happen. */
import { senior } from './compare.js';
import { liveness } from './liveness.js';
import { isDraining } from './self.js';
import type { PeerRecord } from './state.js';
import type { Step } from './step.js';
import type { HookEvent, LegionEvent, MemberInfo } from './types.js';

export function memberInfo(p: PeerRecord): MemberInfo {
  return {
    uuid: p.uuid,
    name: p.name,
    valor: p.valor,
    lord: p.flags.lord,
    arbiter: p.flags.arbiter || p.valor === 0n,
    draining: p.flags.draining,
    self: false,
    scroll: p.scroll,
    lastSeenMs: liveness(p),
    vote: p.vote,
    epoch: p.epoch,
  };
}

export function selfInfo(st: Step): MemberInfo {
  const { s } = st;
  return {
    uuid: s.params.uuid,
    name: s.params.name,
    valor: s.params.valor,
    lord: s.lord,
    arbiter: s.params.valor === 0n,
    draining: isDraining(st),
    self: true,
    scroll: s.params.scroll,
    lastSeenMs: st.now,
    vote: s.vote,
    epoch: s.maxEpoch,
  };
}

/** Self and every live peer, ordered by UUID so snapshots compare easily. */
export function membersSnapshot(st: Step): MemberInfo[] {
  const all = [selfInfo(st), ...[...st.s.peers.values()].map((p) => memberInfo(p))];
  return all.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

/**
 * The lord as this node sees it: the claimant it votes for, else any live claimant (highest
 * epoch, then candidate order), else none.
 */
export function lordInfo(st: Step): MemberInfo | null {
  const { s } = st;
  const claimants: MemberInfo[] = s.lord ? [selfInfo(st)] : [];
  for (const uuid of s.peers.claimants) {
    const p = s.peers.get(uuid);
    if (p !== undefined) claimants.push(memberInfo(p));
  }
  const voted = claimants.find((m) => m.uuid === s.vote);
  if (voted) return voted;
  let best: MemberInfo | null = null;
  for (const m of claimants) best = senior(best, m);
  return best;
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
