/**
 * The native election core: `(state, input, now) -> (state, effects, wakeAt)`.
 * Each step runs the same pipeline whatever the input, so any input at any time leaves the node
 * up to date: stall check, input, expiries, election, lord event, announce, next wake-up.
 * Control commands, wake-up planning and the status view are here too.
 */

import type { Announce } from '../protocol/types.js';
import { U64_MAX } from '../u64.js';
import { announceIfNeeded, sameBytes } from './announce.js';
import { observeEpoch } from './epoch.js';
import { byUuid, emitEvent, noteLordChange, scrollChanged } from './events.js';
import {
  beginRelease,
  checkJoin,
  checkStall,
  completeRelease,
  emitDueLordEvent,
  nativeWorkLease,
  updateLordship,
} from './lordship.js';
import { expirePeers, expiresAtMs, receivePeer } from './membership.js';
import {
  beginStep,
  initialState,
  isDraining,
  log,
  memberInfo,
  type NativeState,
  type Step,
  selfInfo,
} from './state.js';
import {
  type Command,
  type Ctx,
  effectiveValor,
  type Input,
  type LegionView,
  type Machine,
  type MemberInfo,
  type PeerRecord,
  type StepResult,
} from './types.js';
import { chooseVote, leaseHoldsUntil, lordInfo, votesForSelf } from './vote.js';

export type { NativeState } from './state.js';

/** Newcomers wait this many intervals before claiming the title, so they hear a sitting lord first. */
export const STARTUP_GRACE_INTERVALS = 1.5;

function start(st: Step): void {
  const { s, now } = st;
  s.phase = 'running';
  s.startedAtMs = now;
  s.lastStepMs = now;
  s.noLordUntilMs = now + STARTUP_GRACE_INTERVALS * s.params.intervalMs;
  log(st, 'info', 'started', {
    uuid: s.params.uuid,
    valor: s.params.valor.toString(),
    quorum: s.params.quorum,
  });
  emitEvent(st, 'setup');
}

function beforeStart(st: Step, input: Input): void {
  if (input.type === 'start') {
    start(st);
    settle(st);
  } else if (input.type === 'command') {
    if (input.command.type === 'shutdown') {
      // Nothing was announced and no hook ran: there is nothing to release.
      st.s.phase = 'dead';
      st.effects.push({ type: 'stopped' });
    } else {
      applyCommand(st, input.command);
    }
  }
}

function receive(st: Step, a: Announce): void {
  const { s } = st;
  if (a.legion !== s.params.legion) {
    log(st, 'debug', 'packet for another legion dropped', { legion: a.legion });
    return;
  }
  if (a.uuid === s.params.uuid) return;
  observeEpoch(st, a.epoch);
  receivePeer(st, a);
}

function applyInput(st: Step, input: Input): void {
  switch (input.type) {
    case 'packet':
      receive(st, input.packet);
      return;
    case 'command':
      applyCommand(st, input.command);
      return;
    case 'hooks-drained':
      completeRelease(st);
      return;
    case 'start':
    case 'tick':
      return;
  }
}

function endDrainIfDue(st: Step): void {
  const { s, now } = st;
  if (s.drainingUntilMs !== null && now >= s.drainingUntilMs) {
    s.drainingUntilMs = null;
    log(st, 'info', 'stepdown period over');
  }
}

function settle(st: Step): void {
  expirePeers(st);
  endDrainIfDue(st);
  if (st.s.phase === 'running') {
    chooseVote(st);
    checkJoin(st);
    updateLordship(st);
  }
  emitDueLordEvent(st);
  announceIfNeeded(st);
  noteLordChange(st);
}

function step(state: NativeState, input: Input, ctx: Ctx): StepResult<NativeState> {
  if (state.phase === 'dead') return { state, effects: [], wakeAt: Number.POSITIVE_INFINITY };
  const st = beginStep(state, ctx.now, ctx.rand);
  if (state.phase === 'starting') {
    beforeStart(st, input);
  } else {
    checkStall(st);
    st.s.lastStepMs = st.now;
    applyInput(st, input);
    if (st.s.phase !== 'dead') settle(st);
  }
  return { state: st.s, effects: st.effects, wakeAt: planWake(st) };
}

export interface NativeMachineOptions {
  /**
   * Whether hook events carry the full member list (default true). The simulator turns it off:
   * a sorted snapshot per node event is O(N), and a thousand nodes starting at once make a
   * million node events.
   */
  eventMembers?: boolean;
}

export function nativeMachineWith(opts: NativeMachineOptions = {}): Machine<NativeState, Announce> {
  const eventMembers = opts.eventMembers ?? true;
  return {
    init: (params, ctx) => initialState(params, ctx, eventMembers),
    step,
    view: nativeView,
    workLease: nativeWorkLease,
    status: (s) => ({
      phase: s.phase,
      lord: s.lord,
      lordEpoch: s.lordEpoch,
      maxEpoch: s.maxEpoch,
      vote: s.vote,
    }),
  };
}

export const nativeMachine: Machine<NativeState, Announce> = nativeMachineWith();

/* Control commands: valor, scroll, stepdown, hook failures, reloads and shutdown. */

/** Starts draining; a lord hands over through a release so its unlord hooks finish first. */
function drain(st: Step, forMs: number, reason: string): void {
  const { s, now } = st;
  if (!Number.isFinite(forMs) || forMs < 0) {
    log(st, 'warn', 'stepdown ignored: bad duration', { forMs });
    return;
  }
  log(st, 'info', 'stepping down', { forMs, reason, lord: s.lord });
  // The release freezes what peers see before the draining flag would show.
  if (s.lord) beginRelease(st, 'stepdown', reason);
  s.drainingUntilMs = now + forMs;
}

export function applyCommand(st: Step, c: Command): void {
  const { s } = st;
  switch (c.type) {
    case 'set-valor':
      if (c.valor < 0n || c.valor > U64_MAX) {
        log(st, 'warn', 'set-valor ignored: valor out of range', { valor: c.valor.toString() });
        return;
      }
      log(st, 'info', 'valor set', { from: s.baseValor.toString(), to: c.valor.toString() });
      s.baseValor = c.valor;
      applyValor(st);
      return;
    case 'set-penalty':
      if (c.penalty < 0n) return;
      log(st, 'info', 'valor checks penalty', { penalty: c.penalty.toString() });
      s.valorPenalty = c.penalty;
      applyValor(st);
      return;
    case 'set-scroll': {
      const changed = !sameBytes(s.params.scroll, c.scroll);
      s.params = { ...s.params, scroll: c.scroll.slice() };
      log(st, 'info', 'scroll set', { bytes: c.scroll.length });
      if (changed) ownScrollChanged(st);
      return;
    }
    case 'stepdown':
      drain(st, c.forMs, 'stepdown');
      return;
    case 'hook-failed':
      drain(st, c.stepdownMs, 'hook-failed');
      return;
    case 'stepdown-cancel':
      s.drainingUntilMs = null;
      log(st, 'info', 'stepdown cancelled');
      return;
    case 'reconfigure': {
      const changed = Object.keys(c.params);
      const newScroll = c.params.scroll !== undefined && !sameBytes(s.params.scroll, c.params.scroll);
      const nextInterval = c.params.intervalMs;
      s.params = {
        ...s.params,
        ...definedOnly(c.params),
        ...(c.params.scroll ? { scroll: c.params.scroll.slice() } : {}),
      };
      if (c.params.valor !== undefined) {
        s.baseValor = c.params.valor;
        applyValor(st);
      }
      if (nextInterval !== undefined) s.nextAnnounceMs = Math.min(s.nextAnnounceMs, st.now + nextInterval);
      log(st, 'info', 'reconfigured', { changed });
      if (newScroll) ownScrollChanged(st);
      return;
    }
    case 'shutdown':
      beginRelease(st, 'shutdown', 'shutdown');
      return;
  }
}

/** Before `setup` there is nobody to tell: the scroll simply goes out with the first announce. */
function ownScrollChanged(st: Step): void {
  if (st.s.phase !== 'starting') scrollChanged(st, selfInfo(st));
}

/** params are replaced, never edited (the lease cache keys on their identity) */
function applyValor(st: Step): void {
  const { s } = st;
  const valor = effectiveValor(s);
  if (valor !== s.params.valor) s.params = { ...s.params, valor };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/* The earliest moment anything could change without new input; the shell ticks then. */

/** Expiry tests are `now - t > tolerance`, so the first instant they flip is strictly after. */
const AFTER_MS = 1;

/** the earlier of `wake` and `t`, counting only moments still ahead */
function earliest(wake: number, t: number, now: number): number {
  return t > now && t < wake ? t : wake;
}

export function planWake(st: Step): number {
  const { s, now } = st;
  if (s.phase === 'starting' || s.phase === 'dead') return Number.POSITIVE_INFINITY;
  let wake = earliest(Number.POSITIVE_INFINITY, s.nextAnnounceMs, now);
  wake = earliest(wake, s.noLordUntilMs, now);
  if (s.lordEventAtMs !== null) wake = earliest(wake, s.lordEventAtMs, now);
  if (s.drainingUntilMs !== null) wake = earliest(wake, s.drainingUntilMs, now);
  if (s.best && s.params.preemptDelayMs > 0)
    wake = earliest(wake, s.best.sinceMs + s.params.preemptDelayMs, now);
  // the peer table's liveness floor is a lower bound: at worst a tick comes early, rescans and
  // finds nothing due, where looping over every peer at every step would cost O(N) each time
  const expiry = Math.max(s.peers.livenessFloor, s.stallWakeMs) + s.params.toleranceMs + AFTER_MS;
  wake = earliest(wake, expiry, now);
  if (s.lord) wake = earliest(wake, leaseHoldsUntil(st) + AFTER_MS, now);
  return wake;
}

/* What `legionctl status` shows, computed at `ctx.now` without changing the state. */

export function nativeView(state: NativeState, ctx: Ctx): LegionView {
  // Reads the live table without copying it and writes nothing: peers that expired since the last
  // step are skipped as if a tick had removed them, and the vote counts are taken over the others.
  const st = beginStep(state, ctx.now, ctx.rand);
  const live = (p: PeerRecord): boolean => ctx.now <= expiresAtMs(st, p);
  const self = selfInfo(st);
  const members: MemberInfo[] = [self];
  const tally = new Map<string, number>();
  let most = 0;
  for (const p of state.peers.values()) {
    if (!live(p)) continue;
    members.push(memberInfo(p));
    if (p.vote === null) continue;
    const n = (tally.get(p.vote) ?? 0) + 1;
    tally.set(p.vote, n);
    if (n > most) most = n;
  }
  members.sort(byUuid);
  const q = state.params.quorum;
  const draining = isDraining(st);
  return {
    legion: state.params.legion,
    self,
    lord: lordInfo(st, live),
    epoch: state.maxEpoch,
    quorum: q,
    // as quorumAgrees reads the table's tally
    quorumMet: (state.vote !== null && (tally.get(state.vote) ?? 0) + 1 >= q) || most >= q,
    votes: votesForSelf(st, undefined, live),
    baseValor: state.baseValor,
    valor: state.params.valor,
    draining,
    drainingUntilMs: draining ? state.drainingUntilMs : null,
    members,
    phase: state.phase,
    stalls: state.stalls,
  };
}
