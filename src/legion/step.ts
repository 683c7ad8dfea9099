/**
 * The working copy one `step` mutates. Only `machine.ts` creates it, from a copied state, so the
 * state objects callers hold stay untouched.
 */

import type { NativeState, PeerRecord } from './state.js';
import type { Effect } from './types.js';

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

export interface WorkState extends Omit<Mutable<NativeState>, 'peers'> {
  peers: Map<string, PeerRecord>;
}

export interface Step {
  s: WorkState;
  now: number;
  rand: () => number;
  effects: Effect[];
}

export function beginStep(state: NativeState, now: number, rand: () => number): Step {
  return {
    s: { ...state, params: { ...state.params }, peers: new Map(state.peers) },
    now,
    rand,
    effects: [],
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
