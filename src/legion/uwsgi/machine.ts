/**
 * The uWSGI-compatible election core (`protocol: uwsgi`): the same `Machine` contract as the
 * native core, following uWSGI's legion rules (unanimity among visible members, no epoch, no
 * draining flag on the wire). Differences from uWSGI, each deliberate:
 * - node-left events for death announces too (DESIGN §4), and the election reruns at once;
 * - a member's newest scroll is kept, not the first one seen;
 * - a valor change replaces the member at once instead of letting the old identity time out, and
 *   our own valor changes send a death announce for the old identity first, so uWSGI peers
 *   drop it at once too;
 * - stepdown announces valor 0 (an arbiter) until it ends, since uWSGI has no draining flag;
 * - losing the configured quorum unlords at once (uWSGI only does so when it logs its warning);
 * - `epoch` is a local counter of lord changes this node has seen, starting from `initialEpoch`;
 * - no election for one announce interval after start, so we hear the legion before claiming it.
 * Announces carry `unix: 0`; the codec stamps `unix` and `lord` from the wall clock.
 */
import type { UwsgiAnnounce } from '../../protocol/uwsgi/codec.js';
import type {
  Command,
  Ctx,
  Effect,
  HookEvent,
  Input,
  LegionParams,
  Machine,
  StepResult,
  WorkLease,
} from '../types.js';
import { effectiveValor } from '../types.js';
import { ballot, checksumOf, countVotes } from './election.js';
import { applyAnnounce, expireMembers, nextExpiry } from './members.js';
import type { UwsgiParams, UwsgiState } from './types.js';
import { announcedValor, makeEvent, viewOf } from './view.js';

/** How many times the shell sends a death announce (uWSGI sends one; UDP loses packets). */
export const UWSGI_DEATH_REPEAT = 3;

interface Turn {
  s: UwsgiState;
  effects: Effect<UwsgiAnnounce>[];
  now: number;
  /** send an announce at the end of this step, whatever the schedule says */
  announce: boolean;
  /** the valor peers knew us by when the step began */
  valorBefore: bigint;
}

function init(params: LegionParams & { pid?: number }, ctx: Ctx): UwsgiState {
  const p: UwsgiParams = { ...params, pid: params.pid ?? 0 };
  return {
    params: p,
    baseValor: p.valor,
    valorPenalty: 0n,
    phase: 'starting',
    startedAtMs: null,
    members: [],
    joined: false,
    lordSinceMs: null,
    vote: null,
    checksum: checksumOf(p.valor, p.uuid, []),
    votes: 0,
    quorumMet: false,
    epoch: p.initialEpoch,
    lordUuid: null,
    nextAnnounceAtMs: ctx.now,
    lastAnnounceMs: Number.NEGATIVE_INFINITY,
    stepdownUntilMs: null,
  };
}

function step(s: UwsgiState, input: Input<UwsgiAnnounce>, ctx: Ctx): StepResult<UwsgiState, UwsgiAnnounce> {
  if (s.phase === 'dead') return { state: s, effects: [], wakeAt: Number.POSITIVE_INFINITY };
  const t: Turn = { s, effects: [], now: ctx.now, announce: false, valorBefore: announcedValor(s) };
  switch (input.type) {
    case 'start':
      if (t.s.startedAtMs === null) {
        t.s = { ...t.s, startedAtMs: t.now };
        emit(t, 'setup');
        t.announce = true;
      }
      break;
    case 'tick':
      break;
    case 'packet':
      onPacket(t, input.packet);
      break;
    case 'command':
      onCommand(t, input.command);
      break;
    case 'hooks-drained':
      if (t.s.phase === 'releasing') return die(t);
      break;
  }
  settle(t, ctx);
  return { state: t.s, effects: t.effects, wakeAt: wakeAt(t.s, t.now) };
}

function onPacket(t: Turn, p: UwsgiAnnounce): void {
  if (p.legion !== t.s.params.legion) {
    t.effects.push({ type: 'log', level: 'debug', msg: 'uwsgi announce for another legion dropped' });
    return;
  }
  // our own announce looped back (multicast), as uWSGI drops it
  if (p.uuid === t.s.params.uuid) return;
  const change = applyAnnounce(t.s, p, t.now);
  t.s = change.state;
  t.effects.push(...change.effects);
}

function onCommand(t: Turn, c: Command): void {
  const params = t.s.params;
  switch (c.type) {
    case 'set-valor':
      t.s = withValor({ ...t.s, baseValor: c.valor });
      t.announce = true;
      break;
    case 'set-penalty':
      if (c.penalty < 0n) break;
      t.s = withValor({ ...t.s, valorPenalty: c.penalty });
      t.announce = true;
      break;
    case 'set-scroll':
      t.s = { ...t.s, params: { ...params, scroll: c.scroll } };
      t.announce = true;
      break;
    case 'stepdown':
      stepDown(t, c.forMs, 'stepdown');
      break;
    case 'hook-failed':
      stepDown(t, c.stepdownMs, 'hook-failed');
      break;
    case 'stepdown-cancel':
      if (t.s.stepdownUntilMs !== null) {
        t.s = { ...t.s, stepdownUntilMs: null };
        t.announce = true;
      }
      break;
    case 'shutdown':
      if (t.s.phase === 'releasing') return;
      if (t.s.lordSinceMs !== null) unlord(t, 'shutdown');
      t.s = { ...t.s, phase: 'releasing' };
      t.effects.push({ type: 'await-hooks' });
      break;
    case 'reconfigure': {
      t.s = { ...t.s, params: { ...params, ...c.params } };
      if (c.params.valor !== undefined) t.s = withValor({ ...t.s, baseValor: c.params.valor });
      const next = t.s.params;
      if (next.valor !== params.valor || next.scroll !== params.scroll) t.announce = true;
      if (next.intervalMs !== params.intervalMs) {
        t.s = { ...t.s, nextAnnounceAtMs: Math.min(t.s.nextAnnounceAtMs, t.now + next.intervalMs) };
      }
      break;
    }
  }
}

function withValor(s: UwsgiState): UwsgiState {
  const valor = effectiveValor(s);
  return valor === s.params.valor ? s : { ...s, params: { ...s.params, valor } };
}

function stepDown(t: Turn, forMs: number, reason: string): void {
  if (t.s.lordSinceMs !== null) unlord(t, reason);
  t.s = { ...t.s, stepdownUntilMs: t.now + Math.max(0, forMs) };
  t.announce = true;
}

function unlord(t: Turn, reason: string): void {
  const lordUuid = t.s.lordUuid === t.s.params.uuid ? null : t.s.lordUuid;
  t.s = { ...t.s, lordSinceMs: null, lordUuid };
  emit(t, 'unlord', reason);
}

/** The housekeeping uWSGI's legion thread does on every wake-up, then the periodic announce. */
function settle(t: Turn, ctx: Ctx): void {
  const s = t.s;
  if (s.startedAtMs === null) return;
  if (s.stepdownUntilMs !== null && t.now >= s.stepdownUntilMs) {
    t.s = { ...t.s, stepdownUntilMs: null };
    t.announce = true;
  }
  if (t.s.phase === 'starting' && t.now >= graceEnd(t.s)) t.s = { ...t.s, phase: 'running' };
  const expired = expireMembers(t.s, t.now);
  t.s = expired.state;
  t.effects.push(...expired.effects);
  elect(t);
  if (announcedValor(t.s) !== t.valorBefore) {
    // peers key members by (valor, name, uuid): bury the old identity now, or uWSGI peers keep it
    // until it times out and, their checksum differing from ours, elect nobody meanwhile
    const old: UwsgiAnnounce = { ...announceOf(t.s, t.now, true), valor: t.valorBefore };
    delete old.lordForMs;
    t.effects.push({ type: 'send', packet: old, repeat: UWSGI_DEATH_REPEAT });
    t.announce = true;
  }
  if (t.announce || t.now >= t.s.nextAnnounceAtMs) {
    t.effects.push({ type: 'send', packet: announceOf(t.s, t.now, false) });
    t.s = { ...t.s, nextAnnounceAtMs: t.now + jittered(t.s.params, ctx.rand), lastAnnounceMs: t.now };
  }
}

function elect(t: Turn): void {
  const s = t.s;
  const self = s.params.uuid;
  const valor = announcedValor(s);
  const checksum = checksumOf(valor, self, s.members);
  const b = ballot(valor, self, s.members);
  const votes = countVotes(checksum, b.target, s.members);
  const quorumMet = votes > 0 && votes >= Math.max(1, s.params.quorum);
  const voteChanged = s.vote === null || s.vote.valor !== b.vote.valor || s.vote.uuid !== b.vote.uuid;
  // peers need our new checksum and vote to reach unanimity: tell them now, not at the next tick
  if (voteChanged || checksum !== s.checksum) t.announce = true;
  t.s = { ...s, checksum, vote: b.vote, votes, quorumMet };
  if (s.phase === 'starting') return;
  const mayLord = s.phase === 'running';
  if (quorumMet) {
    const real = b.target.valor > 0n && (b.target.uuid !== self || mayLord);
    if (real && b.target.uuid !== t.s.lordUuid) {
      t.s = { ...t.s, epoch: t.s.epoch + 1n, lordUuid: b.target.uuid };
    }
    if (!t.s.joined && mayLord) {
      t.s = { ...t.s, joined: true };
      emit(t, 'join');
    }
    if (b.selfBest && mayLord && t.s.lordSinceMs === null) {
      t.s = { ...t.s, lordSinceMs: t.now };
      emit(t, 'lord');
      // uWSGI's trick too: tell the old lord at once so it unlords sooner
      t.announce = true;
    } else if (!b.selfBest && t.s.lordSinceMs !== null) {
      unlord(t, 'preempted');
    }
  } else if (votes > 0 && t.s.lordSinceMs !== null) {
    unlord(t, 'quorum');
  }
  // an arbiter never holds the title, agreement or not
  if (valor === 0n && t.s.lordSinceMs !== null) unlord(t, 'arbiter');
}

function die(t: Turn): StepResult<UwsgiState, UwsgiAnnounce> {
  t.effects.push({ type: 'send', packet: announceOf(t.s, t.now, true), repeat: UWSGI_DEATH_REPEAT });
  t.s = { ...t.s, phase: 'dead' };
  emit(t, 'death');
  t.effects.push({ type: 'stopped' });
  return { state: t.s, effects: t.effects, wakeAt: Number.POSITIVE_INFINITY };
}

function announceOf(s: UwsgiState, now: number, dead: boolean): UwsgiAnnounce {
  const valor = announcedValor(s);
  const vote = s.vote ?? { valor, uuid: s.params.uuid };
  const a: UwsgiAnnounce = {
    legion: s.params.legion,
    valor,
    unix: 0,
    lord: 0,
    name: s.params.name,
    pid: s.params.pid,
    uuid: s.params.uuid,
    checksum: s.checksum,
    lordValor: vote.valor,
    lordUuid: vote.uuid,
    scroll: s.params.scroll.length > 0 ? s.params.scroll : null,
    dead,
  };
  if (s.lordSinceMs !== null) a.lordForMs = now - s.lordSinceMs;
  return a;
}

function emit(t: Turn, type: HookEvent, reason?: string): void {
  const extra = reason === undefined ? {} : { reason };
  t.effects.push({ type: 'event', event: makeEvent(t.s, type, t.now, extra) });
}

function graceEnd(s: UwsgiState): number {
  return (s.startedAtMs ?? 0) + s.params.intervalMs * (1 + clampJitter(s.params.jitter));
}

function jittered(p: UwsgiParams, rand: () => number): number {
  return p.intervalMs * (1 + clampJitter(p.jitter) * (2 * rand() - 1));
}

function clampJitter(j: number): number {
  return Math.min(0.5, Math.max(0, j));
}

function wakeAt(s: UwsgiState, now: number): number {
  if (s.phase === 'dead') return Number.POSITIVE_INFINITY;
  if (s.startedAtMs === null) return now + s.params.intervalMs;
  let at = Math.min(s.nextAnnounceAtMs, nextExpiry(s));
  if (s.stepdownUntilMs !== null) at = Math.min(at, s.stepdownUntilMs);
  if (s.phase === 'starting') at = Math.min(at, graceEnd(s));
  return at;
}

/**
 * uWSGI peers drop a member a tolerance after they last heard it, so nobody can have elected a
 * successor before our last announce + tolerance (+ lord_delay for the successor's own event).
 */
function workLease(s: UwsgiState, now: number): WorkLease | null {
  if (s.phase !== 'running' || s.lordSinceMs === null || !Number.isFinite(s.lastAnnounceMs)) return null;
  const fenceAtMs = s.lastAnnounceMs + s.params.toleranceMs + s.params.lordDelayMs;
  return { epoch: s.epoch, fenceAtMs, mayStart: now < fenceAtMs };
}

export const uwsgiMachine: Machine<UwsgiState, UwsgiAnnounce> = {
  init,
  step,
  view: (s, ctx) => viewOf(s, ctx.now),
  workLease,
  status: (s) => ({
    phase: s.phase,
    lord: s.lordSinceMs !== null,
    // uWSGI has no epoch on the wire: the local counter of lord changes stands for both
    lordEpoch: s.epoch,
    maxEpoch: s.epoch,
    vote: s.vote?.uuid ?? null,
  }),
};
