/**
 * The working copy one `step` mutates: a shallow copy of the state, sharing its peer table, which
 * the step updates in place and then hands to the new state (see peer-table.ts). Params are
 * shared too, so whoever changes them replaces the object.
 */

import { LegiondError } from '../errors.js';
import type { NativeState } from './state.js';
import type { Effect } from './types.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export type WorkState = Mutable<NativeState>;

export interface Step {
  s: WorkState;
  now: number;
  rand: () => number;
  effects: Effect[];
}

export function beginStep(state: NativeState, now: number, rand: () => number): Step {
  if (state.peers.owner !== state) {
    throw new LegiondError(
      'ERR_STATE_CONSUMED',
      'this state was already stepped: pass the state the last step returned',
    );
  }
  const s = copyState(state);
  state.peers.owner = s;
  return { s, now, rand, effects: [] };
}

/**
 * Field by field rather than `{ ...state }`: V8 builds a literal of this shape several times
 * faster than a spread, and every packet is a step (the type checker flags a field left out).
 */
function copyState(s: NativeState): WorkState {
  return {
    params: s.params,
    phase: s.phase,
    startedAtMs: s.startedAtMs,
    lastStepMs: s.lastStepMs,
    peers: s.peers,
    maxEpoch: s.maxEpoch,
    lord: s.lord,
    lordEpoch: s.lordEpoch,
    proposedEpoch: s.proposedEpoch,
    lordEventAtMs: s.lordEventAtMs,
    lordEventSent: s.lordEventSent,
    vote: s.vote,
    best: s.best,
    drainingUntilMs: s.drainingUntilMs,
    joined: s.joined,
    noLordUntilMs: s.noLordUntilMs,
    stallWakeMs: s.stallWakeMs,
    nextAnnounceMs: s.nextAnnounceMs,
    lastSent: s.lastSent,
    lastAnnounceMs: s.lastAnnounceMs,
    release: s.release,
  };
}

export function log(
  st: Step,
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
): void {
  st.effects.push(fields ? { type: 'log', level, msg, fields } : { type: 'log', level, msg });
}
