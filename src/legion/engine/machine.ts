/**
 * The strong-mode core: a legion whose title is granted by a distributed engine (etcd,
 * PostgreSQL) rather than by votes over UDP. Pure like the native core: inputs are the engine's
 * answers (packets), ticks, commands and `hooks-drained`; effects are engine requests (`send`),
 * events and logs. The engine decides who holds the title; this core decides when to ask, and
 * keeps lord-only work inside the grant: the fence is the send time of the last successful
 * acquire or renewal plus the TTL less a margin, on this node's monotonic clock, so the work has
 * stopped before the engine can let the lease expire and grant the title to someone else.
 */
import type { Command, Ctx, Input, LegionParams, Machine, StepResult, WorkLease } from '../types.js';
import { effectiveValor } from '../types.js';
import {
  handOverReason,
  mayAcquireAt,
  sameCandidate,
  selfCandidate,
  send,
  startupGraceMs,
} from './election.js';
import { afterHooks, beginRelease, die } from './release.js';
import { expirePending, onReply, retryMs } from './replies.js';
import type { EngineMessage, EngineParams, EngineState } from './types.js';
import {
  type EStep,
  emit,
  engineView,
  fenceAt,
  giveUpAt,
  log,
  noteLordChange,
  requestTimeoutOf,
  selfInfo,
  ttlOf,
} from './view.js';

function isEngineParams(p: LegionParams): p is EngineParams {
  return 'engine' in p && typeof (p as EngineParams).engine?.ttlMs === 'number';
}

function init(params: LegionParams, ctx: Ctx): EngineState {
  if (!isEngineParams(params)) throw new Error('the engine core needs EngineParams (params.engine.ttlMs)');
  return {
    params: { ...params, valor: params.valor },
    baseValor: params.valor,
    valorPenalty: 0n,
    phase: 'starting',
    nextId: 1,
    pending: new Map(),
    registered: null,
    registerDirty: true,
    lastRegisterMs: Number.NEGATIVE_INFINITY,
    everRegistered: false,
    snapshot: null,
    snapshotSentMs: Number.NEGATIVE_INFINITY,
    snapshotAtMs: ctx.now,
    snapshotDirty: true,
    holding: false,
    lord: false,
    lordEpoch: 0n,
    // the engine's token is the epoch: one persisted from a UDP-mode past says nothing about it
    maxEpoch: 0n,
    leaseSentMs: Number.NEGATIVE_INFINITY,
    lastRenewMs: Number.NEGATIVE_INFINITY,
    renewFailed: false,
    lordEventAtMs: null,
    lordEventSent: false,
    betterSinceMs: null,
    release: null,
    drainingUntilMs: null,
    heldBackUntilMs: 0,
    releasedEpoch: 0n,
    lastHolder: null,
    vanishedAtMs: null,
    reachable: true,
    unreachableSinceMs: null,
    lastError: null,
    joined: false,
    known: new Map(),
    seenLordUuid: null,
    scroll: params.scroll,
    startedAtMs: ctx.now,
  };
}

function setValor(s: EngineState): void {
  s.params = { ...s.params, valor: effectiveValor(s) };
}

function applyCommand(st: EStep, c: Command): void {
  const { s, now } = st;
  switch (c.type) {
    case 'set-valor':
      s.baseValor = c.valor;
      setValor(s);
      return;
    case 'set-penalty':
      s.valorPenalty = c.penalty;
      setValor(s);
      return;
    case 'set-scroll':
      s.scroll = c.scroll;
      s.params = { ...s.params, scroll: c.scroll };
      emit(st, 'scroll-changed', { member: selfInfo(s, now) });
      return;
    case 'stepdown':
      s.drainingUntilMs = now + c.forMs;
      log(st, 'info', 'stepping down', { forMs: c.forMs });
      return;
    case 'stepdown-cancel':
      s.drainingUntilMs = null;
      return;
    case 'hook-failed':
      s.drainingUntilMs = now + c.stepdownMs;
      log(st, 'warn', 'a lord hook failed: stepping down', { event: c.event, forMs: c.stepdownMs });
      return;
    case 'reconfigure': {
      const { valor, ...rest } = c.params;
      s.params = { ...s.params, ...rest };
      if (rest.scroll) s.scroll = rest.scroll;
      if (valor !== undefined) s.baseValor = valor;
      setValor(s);
      return;
    }
    case 'shutdown':
      beginRelease(st, 'shutdown', 'shutdown');
      return;
  }
}

/** the due times of everything periodic; also what planWake reads */
function dues(s: EngineState) {
  const ttl = ttlOf(s);
  const renewable = s.holding && (s.release === null || s.release.stage === 'hooks');
  return {
    register: s.registerDirty ? Number.NEGATIVE_INFINITY : s.lastRegisterMs + ttl / 3,
    snapshot: s.snapshotDirty ? s.snapshotSentMs : s.snapshotSentMs + ttl / 2,
    renew: renewable ? (s.renewFailed ? s.lastRenewMs + retryMs(s) : s.lastRenewMs + ttl / 3) : Infinity,
  };
}

function periodic(st: EStep): void {
  const { s, now } = st;
  const d = dues(s);
  const r = s.release;
  if ((r === null || r.stage === 'hooks') && !s.pending.has('register')) {
    const me = selfCandidate(s, now);
    if (s.registerDirty || now >= d.register || !sameCandidate(s.registered, me)) {
      s.registered = me;
      s.registerDirty = false;
      s.lastRegisterMs = now;
      send(st, { kind: 'register', me, ttlMs: ttlOf(s) });
    }
  }
  if (!s.pending.has('snapshot') && now >= dues(s).snapshot) {
    s.snapshotDirty = false;
    s.snapshotSentMs = now;
    send(st, { kind: 'snapshot' });
  }
  if (!s.pending.has('renew') && now >= d.renew) {
    s.lastRenewMs = now;
    send(st, { kind: 'renew', uuid: s.params.uuid, epoch: s.lordEpoch, ttlMs: ttlOf(s) });
  }
}

function lordship(st: EStep): void {
  const { s, now } = st;
  if (s.holding && now >= fenceAt(s)) {
    // no renewal since long enough that the engine may have let the grant go: never vouch for it again
    s.holding = false;
    log(st, 'warn', "the grant ran out on this node's clock", { epoch: s.lordEpoch.toString() });
  }
  if (s.lord && (!s.holding || now >= giveUpAt(s))) {
    beginRelease(st, 'stepdown', 'lease');
    return;
  }
  if (s.lord && s.lordEventAtMs !== null && now >= s.lordEventAtMs) {
    s.lordEventAtMs = null;
    s.lordEventSent = true;
    emit(st, 'lord');
  }
  if (s.lord) {
    const why = handOverReason(st);
    if (why !== null) beginRelease(st, 'stepdown', why);
    return;
  }
  if (s.phase !== 'running' || s.release !== null) return;
  const t = s.snapshot?.title ?? null;
  if (!s.holding && t !== null && t.uuid === s.params.uuid && s.reachable) {
    // a grant this node does not count as its own (its answer came too late): give it back
    if (!s.pending.has('release') && !s.pending.has('acquire')) {
      log(st, 'info', 'releasing a stale grant of this node', { epoch: t.epoch.toString() });
      send(st, { kind: 'release', uuid: s.params.uuid, epoch: t.epoch });
    }
    return;
  }
  if (s.vanishedAtMs !== null && now >= s.vanishedAtMs + ttlOf(s)) {
    s.vanishedAtMs = null;
    s.lastHolder = null;
  }
  const at = mayAcquireAt(s, now);
  if (at !== null && now >= at) send(st, { kind: 'acquire', uuid: s.params.uuid, ttlMs: ttlOf(s) });
}

function planWake(s: EngineState, now: number): number {
  if (s.phase === 'dead') return Infinity;
  const d = dues(s);
  let w = Math.min(d.register, d.snapshot, d.renew);
  const limit = requestTimeoutOf(s);
  for (const p of s.pending.values()) w = Math.min(w, p.sentAtMs + limit);
  if (s.holding) w = Math.min(w, fenceAt(s));
  if (s.lord) w = Math.min(w, giveUpAt(s));
  if (s.lordEventAtMs !== null) w = Math.min(w, s.lordEventAtMs);
  if (s.betterSinceMs !== null) w = Math.min(w, s.betterSinceMs + s.params.preemptDelayMs);
  if (s.drainingUntilMs !== null) w = Math.min(w, s.drainingUntilMs);
  if (s.heldBackUntilMs > 0) w = Math.min(w, s.heldBackUntilMs);
  if (s.vanishedAtMs !== null) w = Math.min(w, s.vanishedAtMs + ttlOf(s));
  // a step at least every interval, as the UDP cores take, so liveness checks (/healthz, the
  // sd_notify watchdog) read the engine core alike; such a step sends nothing
  w = Math.min(w, now + s.params.intervalMs);
  const graceEnd = s.startedAtMs + startupGraceMs(s);
  if (s.phase === 'running' && graceEnd > now) w = Math.min(w, graceEnd);
  return w;
}

function step(s: EngineState, input: Input<EngineMessage>, ctx: Ctx): StepResult<EngineState, EngineMessage> {
  const st: EStep = { s, now: ctx.now, effects: [] };
  if (s.phase === 'dead') return { state: s, effects: [], wakeAt: Infinity };
  if (s.phase === 'starting') {
    if (input.type === 'start') {
      s.phase = 'running';
      s.startedAtMs = ctx.now;
      log(st, 'info', 'started', { uuid: s.params.uuid, valor: s.params.valor.toString(), ttlMs: ttlOf(s) });
      emit(st, 'setup');
    } else if (input.type === 'command' && input.command.type === 'shutdown') {
      die(st);
      return { state: s, effects: st.effects, wakeAt: Infinity };
    } else if (input.type === 'command') applyCommand(st, input.command);
    if (s.phase === 'starting') return { state: s, effects: st.effects, wakeAt: Infinity };
  } else {
    switch (input.type) {
      case 'packet':
        if (input.packet.dir !== 'request') onReply(st, input.packet);
        break;
      case 'command':
        applyCommand(st, input.command);
        break;
      case 'hooks-drained':
        if (s.release?.stage === 'hooks') afterHooks(st);
        break;
      default:
        break;
    }
  }
  if (s.drainingUntilMs !== null && st.now >= s.drainingUntilMs) s.drainingUntilMs = null;
  if (s.heldBackUntilMs > 0 && st.now >= s.heldBackUntilMs) s.heldBackUntilMs = 0;
  expirePending(st);
  if (s.phase === 'running' || s.phase === 'releasing') {
    lordship(st);
    periodic(st);
    noteLordChange(st);
  }
  return { state: s, effects: st.effects, wakeAt: planWake(s, st.now) };
}

/**
 * The lease of lord-only work: while lord, and while stopping after it (the `hooks` stage of a
 * release), fenced at the last grant or renewal sent plus the TTL less the margin.
 */
function workLease(s: EngineState, now: number): WorkLease | null {
  const stopping = s.release?.stage === 'hooks' && Number.isFinite(s.leaseSentMs);
  if (!s.lord && !stopping) return null;
  return {
    epoch: s.lordEpoch,
    fenceAtMs: fenceAt(s),
    mayStart: s.lord && s.lordEventSent && now < giveUpAt(s),
  };
}

/** What `legionctl status` adds in strong mode: whether the engine answers, and what it last said. */
export interface EngineHealth {
  reachable: boolean;
  unreachableSinceMs: number | null;
  lastError: string | null;
  holding: boolean;
  title: { uuid: string; epoch: bigint } | null;
}

export function engineHealth(s: EngineState): EngineHealth {
  return {
    reachable: s.reachable,
    unreachableSinceMs: s.unreachableSinceMs,
    lastError: s.lastError,
    holding: s.holding,
    title: s.snapshot?.title ?? null,
  };
}

export const engineMachine: Machine<EngineState, EngineMessage> = {
  init,
  step,
  view: (s, ctx) => engineView(s, ctx.now),
  workLease,
  status: (s) => ({
    phase: s.phase,
    lord: s.lord,
    lordEpoch: s.lordEpoch,
    maxEpoch: s.maxEpoch,
    vote: s.lord ? s.params.uuid : (s.snapshot?.title?.uuid ?? null),
  }),
};
