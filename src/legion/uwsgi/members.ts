/**
 * Membership for the uWSGI-compatible core: who is in the legion, as uWSGI's legion thread keeps
 * it. Functions take the state and return a new one plus the events they cause.
 */
import type { UwsgiAnnounce } from '../../protocol/uwsgi/codec.js';
import type { Effect } from '../types.js';
import type { UwsgiMember, UwsgiState } from './types.js';
import { makeEvent } from './view.js';

export interface MemberChange {
  state: UwsgiState;
  effects: Effect<UwsgiAnnounce>[];
}

const EMPTY = new Uint8Array(0);

/**
 * Apply a decoded announce. A member is (valor, name, uuid), as in uWSGI, so a valor change makes
 * a new member; unlike uWSGI we drop the old identity at once (node-left, reason `valor-change`)
 * instead of letting it time out, and we keep a member's newest scroll, not its first.
 */
export function applyAnnounce(s: UwsgiState, p: UwsgiAnnounce, now: number): MemberChange {
  const effects: Effect<UwsgiAnnounce>[] = [];
  const same = (m: UwsgiMember) => m.uuid === p.uuid && m.name === p.name;
  const existing = s.members.find((m) => same(m) && m.valor === p.valor);
  if (existing === undefined) {
    // a death announce from a node we do not know (e.g. a uWSGI node suspended after a failed
    // lord hook keeps sending them) must not add it
    if (p.dead) return { state: s, effects };
    let state = s;
    const stale = s.members.find(same);
    if (stale !== undefined) {
      state = { ...state, members: state.members.filter((m) => m !== stale) };
      effects.push({
        type: 'event',
        event: makeEvent(state, 'node-left', now, { member: stale, reason: 'valor-change' }),
      });
    }
    const member = toMember(p, now);
    state = { ...state, members: [...state.members, member] };
    effects.push({ type: 'event', event: makeEvent(state, 'node-joined', now, { member }) });
    return { state, effects };
  }
  if (p.dead) {
    const state = { ...s, members: s.members.filter((m) => m !== existing) };
    effects.push({
      type: 'event',
      event: makeEvent(state, 'node-left', now, { member: existing, reason: 'death' }),
    });
    return { state, effects };
  }
  const updated = toMember(p, now);
  return { state: { ...s, members: s.members.map((m) => (m === existing ? updated : m)) }, effects };
}

/** Remove members not heard for more than the tolerance (node-left, reason `timeout`). */
export function expireMembers(s: UwsgiState, now: number): MemberChange {
  const gone = s.members.filter((m) => now - m.lastSeenMs > s.params.toleranceMs);
  if (gone.length === 0) return { state: s, effects: [] };
  const state = { ...s, members: s.members.filter((m) => !gone.includes(m)) };
  const effects: Effect<UwsgiAnnounce>[] = gone.map((member) => ({
    type: 'event',
    event: makeEvent(state, 'node-left', now, { member, reason: 'timeout' }),
  }));
  return { state, effects };
}

/** The earliest time a member will time out, or Infinity when there are none. */
export function nextExpiry(s: UwsgiState): number {
  let at = Number.POSITIVE_INFINITY;
  for (const m of s.members) at = Math.min(at, m.lastSeenMs + s.params.toleranceMs + 1);
  return at;
}

function toMember(p: UwsgiAnnounce, now: number): UwsgiMember {
  return {
    uuid: p.uuid,
    name: p.name,
    valor: p.valor,
    pid: p.pid,
    scroll: p.scroll ?? EMPTY,
    checksum: p.checksum,
    lordValor: p.lordValor,
    lordUuid: p.lordUuid,
    lastSeenMs: now,
  };
}
