/**
 * The native core's state: one object per node that `step` updates in place, its peer table and
 * records included (see Step below for the contract). The fields are read-only to everyone else.
 */
/*
 * One step's working context. The native core's state is an object that `step` updates in place
 * (as etcd-io/raft's RawNode does): no copy per step, no stale copy to get wrong. The contract
 * (types.ts, Machine) says so: hold only the state `step` returned, and let nothing but `step`
 * write it. Params are shared with views and events, so whoever changes them replaces the object.
 */

import type { AnnounceFlags } from '../protocol/types.js';
import { liveness, PeerTable } from './peers.js';
import type { Ctx, Effect, LegionParams, MemberInfo, Mutable, PeerRecord, ValorParts } from './types.js';

export type Phase = 'starting' | 'running' | 'releasing' | 'dead';

/** What went out in the last announce; the flags and vote of a releasing node stay frozen on it. */
export interface SentMaterial {
  readonly name: string;
  readonly valor: bigint;
  readonly vote: string | null;
  readonly flags: Readonly<AnnounceFlags>;
  readonly epoch: bigint;
  readonly scroll: Uint8Array;
}

export interface Release {
  readonly kind: 'stepdown' | 'shutdown';
  /** the flags and vote announced until the shell reports `hooks-drained` */
  readonly frozen: SentMaterial;
}

export interface NativeState extends ValorParts {
  /** `valor` is the effective valor (effectiveValor in types.ts); the base and the penalty are kept beside */
  readonly params: LegionParams;
  /** whether events carry the member list (nativeMachineWith) */
  readonly eventMembers: boolean;
  readonly phase: Phase;
  readonly startedAtMs: number | null;
  readonly lastStepMs: number;
  readonly peers: PeerTable;
  /** highest epoch known: initial epoch, every epoch received, our own */
  readonly maxEpoch: bigint;
  readonly lord: boolean;
  readonly lordEpoch: bigint;
  /**
   * With a quorum: the epoch this node asked its voters to acknowledge before it takes the title
   * (see epoch.ts); null when it is not trying to become lord.
   */
  readonly proposedEpoch: bigint | null;
  /** when the delayed `lord` event is due; null when none is pending */
  readonly lordEventAtMs: number | null;
  /** whether the `lord` event went out for the current lordship (so an `unlord` must follow) */
  readonly lordEventSent: boolean;
  readonly vote: string | null;
  /** the best candidate and since when it has been best without interruption (preempt delay) */
  readonly best: { readonly uuid: string; readonly sinceMs: number } | null;
  readonly drainingUntilMs: number | null;
  readonly joined: boolean;
  /** the node does not make itself lord before this (startup grace, and after a stall) */
  readonly noLordUntilMs: number;
  /** after a stall no member expires before this + tolerance: our own pause is no evidence */
  readonly stallWakeMs: number;
  /** stalls of this node's own event loop found so far (checkStall), for operators */
  readonly stalls: number;
  readonly nextAnnounceMs: number;
  readonly lastSent: SentMaterial | null;
  /** monotonic ms of the last announce sent: peers cannot time this node out before it + tolerance */
  readonly lastAnnounceMs: number;
  readonly release: Release | null;
  /** the lord the last `lord-changed` event named (seenLord), null for none */
  readonly seenLordUuid: string | null;
  /**
   * What seenLord depends on, as of its last reading (events.ts, noteLordChange): while all of it
   * is the same the lord seen is too, and most steps need not read the claimants at all.
   */
  readonly seenLordInputs: SeenLordInputs;
}

export interface SeenLordInputs {
  claims: number;
  lord: boolean;
  vote: string | null;
  maxEpoch: bigint;
  valor: bigint;
}

export function initialState(params: LegionParams, ctx: Ctx, eventMembers = true): NativeState {
  const peers = new PeerTable();
  const state: NativeState = {
    params: { ...params },
    eventMembers,
    baseValor: params.valor,
    valorPenalty: 0n,
    phase: 'starting',
    startedAtMs: null,
    lastStepMs: ctx.now,
    peers,
    maxEpoch: params.initialEpoch,
    lord: false,
    lordEpoch: 0n,
    proposedEpoch: null,
    lordEventAtMs: null,
    lordEventSent: false,
    vote: null,
    best: null,
    drainingUntilMs: null,
    joined: false,
    noLordUntilMs: Number.POSITIVE_INFINITY,
    stallWakeMs: Number.NEGATIVE_INFINITY,
    stalls: 0,
    nextAnnounceMs: Number.POSITIVE_INFINITY,
    lastSent: null,
    lastAnnounceMs: Number.NEGATIVE_INFINITY,
    release: null,
    seenLordUuid: null,
    seenLordInputs: { claims: -1, lord: false, vote: null, maxEpoch: 0n, valor: 0n },
  };
  return state;
}

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

// Facts about this node that several rules share.

export function isDraining(st: Step): boolean {
  const until = st.s.drainingUntilMs;
  return until !== null && st.now < until;
}

/** Whether this node may be elected: running, valor > 0, not draining, not an observer. */
export function selfCandidate(st: Step): boolean {
  const p = st.s.params;
  return st.s.phase === 'running' && p.valor > 0n && p.observer !== true && !isDraining(st);
}

// MemberInfo snapshots, built from the working state at the moment they are taken.

export function memberInfo(p: PeerRecord): MemberInfo {
  return {
    uuid: p.uuid,
    name: p.name,
    valor: p.valor,
    lord: p.flags.lord,
    arbiter: (p.flags.arbiter || p.valor === 0n) && p.flags.observer !== true,
    observer: p.flags.observer === true,
    draining: p.flags.draining,
    self: false,
    scroll: p.scroll,
    lastSeenMs: liveness(p),
    vote: p.vote,
    epoch: p.epoch,
  };
}

export function selfInfo(st: Step): MemberInfo {
  const { s } = st;
  return {
    uuid: s.params.uuid,
    name: s.params.name,
    valor: s.params.valor,
    lord: s.lord,
    arbiter: s.params.valor === 0n && s.params.observer !== true,
    observer: s.params.observer === true,
    draining: isDraining(st),
    self: true,
    scroll: s.params.scroll,
    lastSeenMs: st.now,
    vote: s.vote,
    epoch: s.maxEpoch,
  };
}
