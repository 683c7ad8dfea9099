/** What the strong-mode core shows: members, the lord, events and the status view. */
import type { EngineCandidate } from '../../engine/types.js';
import {
  type Effect,
  effectiveValor,
  type HookEvent,
  type LegionEvent,
  type LegionView,
  type MemberInfo,
} from '../types.js';
import type { EngineMessage, EngineState } from './types.js';

export interface EStep {
  s: EngineState;
  now: number;
  effects: Effect<EngineMessage>[];
}

export function ttlOf(s: EngineState): number {
  return s.params.engine.ttlMs;
}

export function marginOf(s: EngineState): number {
  return s.params.engine.marginMs ?? Math.max(50, ttlOf(s) / 10);
}

export function requestTimeoutOf(s: EngineState): number {
  return s.params.engine.requestTimeoutMs ?? ttlOf(s) / 2;
}

/** the instant by which this node's lord-only work must be gone: the engine's TTL from the last grant or renewal sent */
export function fenceAt(s: EngineState): number {
  return s.leaseSentMs + ttlOf(s) - marginOf(s);
}

/** a lord that has not renewed by then gives the title up, so its work stops before the fence */
export function giveUpAt(s: EngineState): number {
  return s.leaseSentMs + (2 * ttlOf(s)) / 3;
}

/** who this node believes the lord is: itself while lord, else the engine's holder while the engine answers */
export function seenLordUuid(s: EngineState): string | null {
  if (s.lord) return s.params.uuid;
  if (!s.reachable) return null;
  const t = s.snapshot?.title ?? null;
  return t === null || t.uuid === s.params.uuid ? null : t.uuid;
}

export function selfInfo(s: EngineState, now: number): MemberInfo {
  const valor = effectiveValor(s);
  return {
    uuid: s.params.uuid,
    name: s.params.name,
    valor,
    lord: s.lord,
    arbiter: valor === 0n && s.params.observer !== true,
    observer: s.params.observer === true,
    draining: s.drainingUntilMs !== null,
    self: true,
    scroll: s.scroll,
    lastSeenMs: now,
    vote: seenLordUuid(s),
    epoch: s.lord ? s.lordEpoch : s.maxEpoch,
  };
}

function peerInfo(s: EngineState, c: EngineCandidate): MemberInfo {
  const title = s.snapshot?.title ?? null;
  const lord = s.reachable && title !== null && title.uuid === c.uuid;
  return {
    uuid: c.uuid,
    name: c.name,
    valor: c.valor,
    lord,
    arbiter: c.valor === 0n,
    observer: false,
    draining: !c.standing && c.valor > 0n,
    self: false,
    scroll: c.scroll,
    lastSeenMs: s.snapshotAtMs,
    vote: title?.uuid ?? null,
    epoch: lord && title ? title.epoch : 0n,
  };
}

export function members(s: EngineState, now: number): MemberInfo[] {
  const out = [selfInfo(s, now)];
  for (const c of s.known.values()) out.push(peerInfo(s, c));
  return out.sort((a, b) => (a.uuid < b.uuid ? -1 : a.uuid > b.uuid ? 1 : 0));
}

export function lordInfo(s: EngineState, now: number): MemberInfo | null {
  const uuid = seenLordUuid(s);
  if (uuid === null) return null;
  if (uuid === s.params.uuid) return selfInfo(s, now);
  const c = s.known.get(uuid);
  if (c) return peerInfo(s, c);
  // the holder's registration is gone but its title is not (yet): show what the engine says
  const title = s.snapshot?.title;
  return {
    uuid,
    name: uuid,
    valor: 0n,
    lord: true,
    arbiter: false,
    observer: false,
    draining: false,
    self: false,
    scroll: new Uint8Array(0),
    lastSeenMs: s.snapshotAtMs,
    vote: uuid,
    epoch: title?.epoch ?? 0n,
  };
}

export function emit(st: EStep, type: HookEvent, extra: { member?: MemberInfo; reason?: string } = {}): void {
  const { s, now } = st;
  const lord = lordInfo(s, now);
  let epoch = s.maxEpoch;
  if (type === 'lord' || type === 'unlord') epoch = s.lordEpoch;
  else if (type === 'lord-changed' && lord !== null) epoch = lord.self ? s.lordEpoch : lord.epoch;
  const event: LegionEvent = {
    type,
    epoch,
    self: selfInfo(s, now),
    lord,
    members: members(s, now),
    atMs: now,
  };
  if (extra.member) event.member = extra.member;
  if (extra.reason !== undefined) event.reason = extra.reason;
  st.effects.push({ type: 'event', event });
}

export function log(
  st: EStep,
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
): void {
  st.effects.push(fields ? { type: 'log', level, msg, fields } : { type: 'log', level, msg });
}

/** the membership events a new snapshot implies, against the candidates known before */
export function noteMembers(st: EStep, next: readonly EngineCandidate[]): void {
  const { s } = st;
  const seen = new Set<string>();
  for (const c of next) {
    if (c.uuid === s.params.uuid) continue;
    seen.add(c.uuid);
    const before = s.known.get(c.uuid);
    s.known.set(c.uuid, c);
    if (!before) emit(st, 'node-joined', { member: peerInfo(s, c) });
    else if (!sameBytes(before.scroll, c.scroll)) emit(st, 'scroll-changed', { member: peerInfo(s, c) });
  }
  for (const [uuid, c] of s.known) {
    if (seen.has(uuid)) continue;
    s.known.delete(uuid);
    emit(st, 'node-left', { member: peerInfo(s, c), reason: 'engine' });
  }
}

/** `lord-changed` when the lord this node sees is another than the last event named */
export function noteLordChange(st: EStep): void {
  const uuid = seenLordUuid(st.s);
  if (uuid === st.s.seenLordUuid) return;
  st.s.seenLordUuid = uuid;
  emit(st, 'lord-changed');
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function engineView(s: EngineState, now: number): LegionView {
  return {
    legion: s.params.legion,
    self: selfInfo(s, now),
    lord: lordInfo(s, now),
    epoch: s.lord ? s.lordEpoch : s.maxEpoch,
    quorum: 1,
    quorumMet: s.reachable && s.everRegistered,
    votes: 0,
    baseValor: s.baseValor,
    valor: effectiveValor(s),
    draining: s.drainingUntilMs !== null,
    drainingUntilMs: s.drainingUntilMs,
    members: members(s, now),
    phase: s.phase,
  };
}
