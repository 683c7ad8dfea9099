/**
 * The native core's state: one object per node that `step` updates in place, its peer table and
 * records included (see step.ts for the contract). The fields are read-only to everyone else.
 */
import type { AnnounceFlags } from '../protocol/types.js';
import { PeerTable } from './peer-table.js';
import type { Ctx, LegionParams } from './types.js';
import type { ValorParts } from './valor.js';

export type Phase = 'starting' | 'running' | 'releasing' | 'dead';

/**
 * A peer as last heard. Only peers we heard directly exist here; attestation only refreshes them.
 * The step that owns the table updates it in place: what the peer announced when it changes
 * (PeerTable.revise), the two timestamps at every packet and attestation. A copy per packet was
 * most of a step's cost. Whoever needs a lasting picture of a member copies it (memberInfo).
 */
export interface PeerRecord {
  readonly uuid: string;
  readonly name: string;
  readonly valor: bigint;
  readonly epoch: bigint;
  readonly vote: string | null;
  readonly flags: Readonly<AnnounceFlags>;
  readonly scroll: Uint8Array;
  readonly viewDigest: number;
  readonly firstHeardMs: number;
  /** last packet received from the peer itself: the only thing that keeps its vote fresh */
  lastDirectMs: number;
  /** best estimate of when some live member last heard it directly */
  attestedMs: number;
}

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
  /** `valor` is the effective valor (valor.ts); the base and the penalty are kept beside */
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
  readonly nextAnnounceMs: number;
  readonly lastSent: SentMaterial | null;
  /** monotonic ms of the last announce sent: peers cannot time this node out before it + tolerance */
  readonly lastAnnounceMs: number;
  readonly release: Release | null;
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
    nextAnnounceMs: Number.POSITIVE_INFINITY,
    lastSent: null,
    lastAnnounceMs: Number.NEGATIVE_INFINITY,
    release: null,
  };
  return state;
}
