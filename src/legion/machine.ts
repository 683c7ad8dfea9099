/**
 * The native election core: `(state, input, now) -> (state, effects, wakeAt)`.
 * Each step runs the same pipeline whatever the input, so any input at any time leaves the node
 * up to date: stall check, input, expiries, election, lord event, announce, next wake-up.
 */
import type { Announce } from '../protocol/types.js';
import { announceIfNeeded } from './announce.js';
import { applyCommand } from './commands.js';
import { observeEpoch } from './epoch.js';
import { emitEvent } from './events.js';
import { checkJoin, emitDueLordEvent, updateLordship } from './lordship.js';
import { expirePeers, receivePeer } from './membership.js';
import { completeRelease } from './release.js';
import { checkStall } from './stall.js';
import type { NativeState } from './state.js';
import { initialState } from './state.js';
import { beginStep, log, type Step } from './step.js';
import type { Ctx, Input, Machine, StepResult } from './types.js';
import { nativeView } from './view.js';
import { chooseVote } from './vote.js';
import { planWake } from './wake.js';
import { nativeWorkLease } from './work-lease.js';

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
