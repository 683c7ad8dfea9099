/**
 * The contract between the pure election core and whatever drives it (the daemon shell or the
 * simulator). The core is a pair of functions, `init` and `step`; it never reads a clock, a
 * random source or a socket: `Ctx` brings time and randomness in, `Effect`s carry work out.
 */

import type { Announce, AnnounceFlags } from '../protocol/types.js';

export type HookEvent =
  | 'setup'
  | 'join'
  | 'lord'
  | 'unlord'
  | 'node-joined'
  | 'node-left'
  | 'death'
  | 'lord-changed'
  | 'scroll-changed';

/** The events of a node's own life and of membership, in the order a node's life goes through them; both cores emit them. */
export const LIFECYCLE_EVENTS: readonly HookEvent[] = [
  'setup',
  'join',
  'lord',
  'unlord',
  'node-joined',
  'node-left',
  'death',
];

/**
 * Every event: the lifecycle ones, then those for followers of the legion (native core): the lord
 * as this node sees it changed (`lord-changed`, on every node) and a member's scroll changed
 * (`scroll-changed`, this node's own included).
 */
export const HOOK_EVENTS: readonly HookEvent[] = [...LIFECYCLE_EVENTS, 'lord-changed', 'scroll-changed'];

export interface LegionParams {
  legion: string;
  /** this process's identity, injected (new at each process start, kept across reloads) */
  uuid: string;
  name: string;
  valor: bigint;
  /** live members (self and arbiters included) that must vote for a node before it is lord */
  quorum: number;
  intervalMs: number;
  toleranceMs: number;
  /** fraction of the interval by which announces are spread (0..0.5) */
  jitter: number;
  preempt: boolean;
  preemptDelayMs: number;
  lordDelayMs: number;
  scroll: Uint8Array;
  /** highest epoch known from a previous run (state directory), 0n when none */
  initialEpoch: bigint;
  /**
   * Follows the legion without taking part: announces so others see it and its scroll, but never
   * votes, never stands and never counts toward anyone's quorum (valor should be 0). Default false.
   */
  observer?: boolean;
}

export interface Ctx {
  /** monotonic milliseconds */
  now: number;
  /** uniform in [0, 1) */
  rand: () => number;
}

export type Command =
  /** the base valor; the core announces it less the checks' penalty */
  | { type: 'set-valor'; valor: bigint }
  /** what failing valor checks take off the base valor */
  | { type: 'set-penalty'; penalty: bigint }
  | { type: 'set-scroll'; scroll: Uint8Array }
  | { type: 'stepdown'; forMs: number }
  | { type: 'stepdown-cancel' }
  /** begin a clean departure (shutdown or `legionctl leave`) */
  | { type: 'shutdown' }
  /** a lord hook failed and the config says to step down for `stepdownMs` */
  | { type: 'hook-failed'; event: HookEvent; stepdownMs: number }
  | { type: 'reconfigure'; params: Partial<Omit<LegionParams, 'uuid' | 'legion'>> };

export type Input<P = Announce> =
  | { type: 'start' }
  | { type: 'tick' }
  | { type: 'packet'; packet: P }
  | { type: 'command'; command: Command }
  /** answer to an `await-hooks` effect: every hook queued before it has finished (or timed out) */
  | { type: 'hooks-drained' };

export interface MemberInfo {
  uuid: string;
  name: string;
  valor: bigint;
  lord: boolean;
  arbiter: boolean;
  /** follows only: no vote, no candidacy, not counted (see LegionParams.observer) */
  observer: boolean;
  draining: boolean;
  self: boolean;
  scroll: Uint8Array;
  /** monotonic ms when last heard (directly or by attestation); for self, `now` */
  lastSeenMs: number;
  /** whom this member votes for */
  vote: string | null;
  epoch: bigint;
}

export interface LegionEvent {
  type: HookEvent;
  /**
   * `lord`, `unlord`: the epoch of this node's lordship; `lord-changed`: the new lord's (its
   * announced epoch; this node's lordship's when it is the lord), the highest known when there is
   * none; other events: the highest epoch known
   */
  epoch: bigint;
  self: MemberInfo;
  lord: MemberInfo | null;
  /** the member concerned, for node-joined, node-left and scroll-changed (with its new scroll) */
  member?: MemberInfo;
  /** why, for node-left ('timeout' | 'death') and unlord ('lease' | 'preempted' | 'stepdown' | 'shutdown' | 'epoch' | …) */
  reason?: string;
  /** every live member, self included, by UUID; empty from a core made without member lists (nativeMachineWith) */
  members: MemberInfo[];
  atMs: number;
}

export type Effect<P = Announce> =
  /** encode and send to every destination; `repeat` > 1 for death announces, spaced by the shell */
  | { type: 'send'; packet: P; repeat?: number }
  | { type: 'event'; event: LegionEvent }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; fields?: Record<string, unknown> }
  /** the core holds its announces steady until the shell answers with `hooks-drained` */
  | { type: 'await-hooks' }
  /** the departure is complete: death announce sent and death event emitted */
  | { type: 'stopped' };

export interface StepResult<S, P = Announce> {
  state: S;
  effects: Effect<P>[];
  /** monotonic ms at which the shell must call `step` with a tick at the latest */
  wakeAt: number;
}

/** What `legionctl status` and `members` show; computed from state without changing it. */
export interface LegionView {
  legion: string;
  self: MemberInfo;
  lord: MemberInfo | null;
  epoch: bigint;
  quorum: number;
  quorumMet: boolean;
  /** fresh votes this node holds for itself */
  votes: number;
  /** configured or set with legionctl */
  baseValor: bigint;
  /** announced: the base less the penalty of failing checks */
  valor: bigint;
  draining: boolean;
  drainingUntilMs: number | null;
  members: MemberInfo[];
  phase: 'starting' | 'running' | 'releasing' | 'dead';
  /** times the core found its own event loop had stalled past its threshold (cores that detect stalls) */
  stalls?: number;
}

/**
 * The lease lord-only work runs under (cron runs, attached daemons). Two answers are kept apart
 * because they differ during a hand-over:
 * - `fenceAtMs`: the monotonic instant by which every lord-only process of this node must be gone,
 *   because from then on another node may have been elected. It stands while this node's announces
 *   claim the title (a releasing lord keeps claiming until its work has stopped).
 * - `mayStart`: whether new work may begin now: lord, its lord event out, not releasing, not
 *   freshly woken from a stall.
 */
export interface WorkLease {
  /** the epoch of the lordship the lease belongs to */
  readonly epoch: bigint;
  readonly fenceAtMs: number;
  readonly mayStart: boolean;
}

/** Both the native and the uWSGI-compatible cores implement this, so shell and simulator treat them alike. */
export interface Machine<S, P = Announce> {
  init(params: LegionParams, ctx: Ctx): S;
  /**
   * Applies one input. The state passed in may be updated in place and the one returned is the
   * one to keep (the native core returns the same object, RawNode-style; the uWSGI core returns
   * a new value). Hold only the state the last step returned; nothing but `step` writes it.
   */
  step(state: S, input: Input<P>, ctx: Ctx): StepResult<S, P>;
  view(state: S, ctx: Ctx): LegionView;
  /** the lease for lord-only work at `now`, or null when this node claims no lordship; cheap */
  workLease(state: S, now: number): WorkLease | null;
  /** what observers (the simulator's checker, tests) read after a step; cheap, reads no peers */
  status(state: S): CoreStatus;
}

export interface CoreStatus {
  phase: 'starting' | 'running' | 'releasing' | 'dead';
  lord: boolean;
  /** the epoch of this node's lordship while `lord`, else of its last one (0n before any) */
  lordEpoch: bigint;
  /** the highest epoch this node knows */
  maxEpoch: bigint;
  vote: string | null;
}

/**
 * Optional capability of a core whose member table can take heartbeats in bulk, for a shell
 * that does not hand it every repeat of an unchanged announce (the simulator's folded
 * heartbeats; the native core's rule is in membership.ts). Check with `takesHeartbeatsInBulk`.
 */
export interface FoldedHeartbeats<S, P = Announce> {
  /**
   * Moves each member's direct hearing up to `heardAt(uuid, index)` (index: the member's place in
   * the table) and returns until when the table may go without another refresh. Edits the state
   * in place like a step: pass the newest one.
   */
  noteHeard(state: S, heardAt: (uuid: string, index: number) => number, now: number): number;
  /** the refresh due after a step on `packet`, given the one due before it */
  heardDueAfter(state: S, due: number, packet: P, now: number): number;
}

export function takesHeartbeatsInBulk<S, P>(
  machine: Machine<S, P>,
): machine is Machine<S, P> & FoldedHeartbeats<S, P> {
  return 'noteHeard' in machine && 'heardDueAfter' in machine;
}

// The native core's records, shared by its modules.

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

/** What a receiver keeps of an announce besides timing: a peer record, or an announce itself. */
export type Announced = Pick<
  PeerRecord,
  'name' | 'valor' | 'epoch' | 'vote' | 'viewDigest' | 'flags' | 'scroll'
>;

export type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The one owner of a node's valor: the core keeps the base valor (config, `legionctl valor set`)
 * and the penalty of failing valor checks, and announces base − penalty (never below 0).
 */
export interface ValorParts {
  readonly baseValor: bigint;
  readonly valorPenalty: bigint;
}

export function effectiveValor(v: ValorParts): bigint {
  return v.baseValor > v.valorPenalty ? v.baseValor - v.valorPenalty : 0n;
}
