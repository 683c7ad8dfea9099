/**
 * One step's working context. The native core's state is an object that `step` updates in place
 * (as etcd-io/raft's RawNode does): no copy per step, no stale copy to get wrong. The contract
 * (types.ts, Machine) says so: hold only the state `step` returned, and let nothing but `step`
 * write it. Params are shared with views and events, so whoever changes them replaces the object.
 */
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
  return { s: state as WorkState, now, rand, effects: [] };
}

export function log(
  st: Step,
  level: 'debug' | 'info' | 'warn' | 'error',
  msg: string,
  fields?: Record<string, unknown>,
): void {
  st.effects.push(fields ? { type: 'log', level, msg, fields } : { type: 'log', level, msg });
}
