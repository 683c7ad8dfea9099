/** Read-only projections of `UwsgiState`: member infos, events and the `legionctl` view. */
import type { HookEvent, LegionEvent, LegionView, MemberInfo } from '../types.js';
import type { UwsgiMember, UwsgiState } from './types.js';

/** The valor we announce: 0 (an arbiter) while stepped down, since uWSGI has no draining flag. */
export function announcedValor(s: UwsgiState): bigint {
  return s.stepdownUntilMs === null ? s.params.valor : 0n;
}

export function selfInfo(s: UwsgiState, now: number): MemberInfo {
  const valor = announcedValor(s);
  return {
    uuid: s.params.uuid,
    name: s.params.name,
    valor,
    lord: s.lordSinceMs !== null,
    arbiter: valor === 0n,
    observer: false,
    draining: s.stepdownUntilMs !== null,
    self: true,
    scroll: s.params.scroll,
    lastSeenMs: now,
    vote: s.vote === null || s.vote.valor === 0n ? null : s.vote.uuid,
    epoch: s.epoch,
  };
}

export function memberInfo(s: UwsgiState, m: UwsgiMember): MemberInfo {
  return {
    uuid: m.uuid,
    name: m.name,
    valor: m.valor,
    lord: m.uuid === s.lordUuid,
    arbiter: m.valor === 0n,
    observer: false,
    draining: false,
    self: false,
    scroll: m.scroll,
    lastSeenMs: m.lastSeenMs,
    // a vote for valor 0 is no vote: an arbiter naming itself, or a uWSGI node that has not voted yet
    vote: m.lordValor === 0n ? null : m.lordUuid,
    // uWSGI carries no epoch: members are shown with ours
    epoch: s.epoch,
  };
}

export function allMembers(s: UwsgiState, now: number): MemberInfo[] {
  return [selfInfo(s, now), ...s.members.map((m) => memberInfo(s, m))];
}

export function lordInfo(s: UwsgiState, now: number): MemberInfo | null {
  if (s.lordUuid === null) return null;
  if (s.lordUuid === s.params.uuid) return selfInfo(s, now);
  const m = s.members.find((x) => x.uuid === s.lordUuid);
  return m === undefined ? null : memberInfo(s, m);
}

export function makeEvent(
  s: UwsgiState,
  type: HookEvent,
  now: number,
  extra: { member?: UwsgiMember; reason?: string } = {},
): LegionEvent {
  const event: LegionEvent = {
    type,
    epoch: s.epoch,
    self: selfInfo(s, now),
    lord: lordInfo(s, now),
    members: allMembers(s, now),
    atMs: now,
  };
  if (extra.member !== undefined) event.member = memberInfo(s, extra.member);
  if (extra.reason !== undefined) event.reason = extra.reason;
  return event;
}

export function viewOf(s: UwsgiState, now: number): LegionView {
  return {
    legion: s.params.legion,
    self: selfInfo(s, now),
    lord: lordInfo(s, now),
    epoch: s.epoch,
    baseValor: s.baseValor,
    quorum: s.params.quorum,
    quorumMet: s.quorumMet,
    votes: s.votes,
    valor: s.params.valor,
    draining: s.stepdownUntilMs !== null,
    drainingUntilMs: s.stepdownUntilMs,
    members: allMembers(s, now),
    phase: s.phase,
  };
}
