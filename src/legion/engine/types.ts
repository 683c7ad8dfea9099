/**
 * The strong-mode core's messages and state. Requests are what the core asks of the engine (the
 * `send` effects it returns); replies are what the shell feeds back (`packet` inputs), each naming
 * the request it answers. The core stamps a request's send time itself: the shell hands it to the
 * engine client within the same turn of the event loop, so the step's `now` is never later than
 * the moment it went out, which is what the fence of lord-only work is reckoned from.
 */
import type { AcquireResult, EngineCandidate, EngineSnapshot, EngineTitle } from '../../engine/types.js';
import type { LegionParams } from '../types.js';

export type RequestKind = 'register' | 'unregister' | 'snapshot' | 'acquire' | 'renew' | 'release';

export type EngineRequest =
  | {
      readonly dir: 'request';
      readonly kind: 'register';
      readonly id: number;
      readonly me: EngineCandidate;
      readonly ttlMs: number;
    }
  | { readonly dir: 'request'; readonly kind: 'unregister'; readonly id: number; readonly uuid: string }
  | { readonly dir: 'request'; readonly kind: 'snapshot'; readonly id: number }
  | {
      readonly dir: 'request';
      readonly kind: 'acquire';
      readonly id: number;
      readonly uuid: string;
      readonly ttlMs: number;
    }
  | {
      readonly dir: 'request';
      readonly kind: 'renew';
      readonly id: number;
      readonly uuid: string;
      readonly epoch: bigint;
      readonly ttlMs: number;
    }
  | {
      readonly dir: 'request';
      readonly kind: 'release';
      readonly id: number;
      readonly uuid: string;
      readonly epoch: bigint;
    };

/** A successful answer, by request. */
export type ReplyValue =
  | { readonly kind: 'register' | 'unregister' | 'release' }
  | { readonly kind: 'snapshot'; readonly snapshot: EngineSnapshot }
  | { readonly kind: 'acquire'; readonly result: AcquireResult }
  | { readonly kind: 'renew'; readonly held: boolean };

export type EngineReply =
  | { readonly dir: 'reply'; readonly id: number; readonly ok: true; readonly value: ReplyValue }
  | {
      readonly dir: 'reply';
      readonly id: number;
      readonly ok: false;
      readonly kind: RequestKind;
      readonly error: string;
    }
  /** the engine's watch saw a registration or the title change */
  | { readonly dir: 'changed' };

export type EngineMessage = EngineRequest | EngineReply;

/** Timing of a strong-mode legion; everything else comes from LegionParams. */
export interface EngineTiming {
  /** lease of the registration and of the title, as the engine judges it */
  ttlMs: number;
  /** a request with no answer after this counts as failed (default ttl / 2) */
  requestTimeoutMs?: number;
  /** taken off the fence for clock-rate differences between this host and the engine (default ttl / 10, at least 50 ms) */
  marginMs?: number;
}

export interface EngineParams extends LegionParams {
  engine: EngineTiming;
}

export type Phase = 'starting' | 'running' | 'releasing' | 'dead';

export interface Pending {
  readonly id: number;
  readonly sentAtMs: number;
}

/**
 * A lordship being given up, in order: `hooks` (unlord hooks and the workload's stop; this node
 * still registers as standing, since its work may still run), then `release` (registered as not
 * standing and the title released, both sent at once) and, for a shutdown, `unregister`.
 */
export interface EngineRelease {
  readonly kind: 'stepdown' | 'shutdown';
  readonly reason: string;
  stage: 'hooks' | 'release' | 'unregister';
}

export interface EngineState {
  params: EngineParams;
  baseValor: bigint;
  valorPenalty: bigint;
  phase: Phase;
  nextId: number;
  pending: Map<RequestKind, Pending>;
  /** the registration as last sent, to send again only when it changes or is due */
  registered: EngineCandidate | null;
  registerDirty: boolean;
  lastRegisterMs: number;
  /** a registration succeeded since the start */
  everRegistered: boolean;
  snapshot: EngineSnapshot | null;
  /** when the snapshot was asked for, and when its answer came */
  snapshotSentMs: number;
  snapshotAtMs: number;
  snapshotDirty: boolean;
  /** the engine holds the title for this node at `lordEpoch` (as far as this node knows) */
  holding: boolean;
  /** lord: holding and not giving it up */
  lord: boolean;
  lordEpoch: bigint;
  maxEpoch: bigint;
  /** send time of the last acquire or renew that succeeded: the fence is reckoned from it */
  leaseSentMs: number;
  lastRenewMs: number;
  renewFailed: boolean;
  lordEventAtMs: number | null;
  lordEventSent: boolean;
  betterSinceMs: number | null;
  release: EngineRelease | null;
  drainingUntilMs: number | null;
  /** after a release this node does not stand again until then, or until a successor holds the title */
  heldBackUntilMs: number;
  releasedEpoch: bigint;
  /**
   * The last holder of the title seen in a snapshot, and when a snapshot first showed the title
   * gone while that holder was still registered as standing: its work may still run until its own
   * renewal fails, so nobody acquires before `vanishedAtMs + ttl`.
   */
  lastHolder: EngineTitle | null;
  vanishedAtMs: number | null;
  reachable: boolean;
  unreachableSinceMs: number | null;
  lastError: string | null;
  joined: boolean;
  /** candidates as last seen, for node-joined / node-left / scroll-changed */
  known: Map<string, EngineCandidate>;
  seenLordUuid: string | null;
  scroll: Uint8Array;
  startedAtMs: number;
}
