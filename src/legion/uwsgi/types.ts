/** State of the uWSGI-compatible election core (`uwsgiMachine`). Plain data, never mutated in place. */

import type { LegionParams, ValorParts } from '../types.js';

export interface UwsgiParams extends LegionParams {
  /** the master pid uWSGI announces; only used by uWSGI to spot its own looped-back packets */
  pid: number;
}

/** A member as uWSGI keys it: (valor, name, uuid). */
export interface UwsgiMember {
  uuid: string;
  name: string;
  valor: bigint;
  pid: number;
  scroll: Uint8Array;
  /** the member's membership checksum, from its last announce */
  checksum: bigint;
  /** its vote */
  lordValor: bigint;
  lordUuid: string;
  lastSeenMs: number;
}

export interface Candidate {
  valor: bigint;
  uuid: string;
}

export type UwsgiPhase = 'starting' | 'running' | 'releasing' | 'dead';

export interface UwsgiState extends ValorParts {
  /** params.valor is the effective valor (../valor.ts) */
  params: UwsgiParams;
  phase: UwsgiPhase;
  /** monotonic ms of the `start` input, null before it */
  startedAtMs: number | null;
  members: UwsgiMember[];
  /** quorum was reached at least once (join event sent) */
  joined: boolean;
  /** monotonic ms this node became lord, null when it is not lord */
  lordSinceMs: number | null;
  /** our vote as last computed; null before the first evaluation */
  vote: Candidate | null;
  checksum: bigint;
  votes: number;
  quorumMet: boolean;
  /**
   * Local fencing counter: uWSGI has no epoch on the wire, so this counts the lord changes this
   * node has seen (from `initialEpoch`). Nodes may disagree on its value; it only ever grows.
   */
  epoch: bigint;
  /** uuid of the lord last confirmed by quorum (possibly self), null if none yet */
  lordUuid: string | null;
  nextAnnounceAtMs: number;
  /** monotonic ms of the last announce sent (the work lease's fence counts from it) */
  lastAnnounceMs: number;
  /** while stepped down we announce valor 0 (an arbiter) until this monotonic ms */
  stepdownUntilMs: number | null;
}
