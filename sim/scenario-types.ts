/** A scenario after validation: the plain data a run is built from (times in ms, valor as bigint). */
import type { HookEvent } from '../src/legion/types.js';

/** A node name, or a word resolved when the fault fires: the current lord, any running node, any running non-lord. */
export type Target = string;
export const TARGET_WORDS = ['lord', 'random', 'follower'] as const;

export interface LinkParams {
  /** probability that one copy of a packet is lost */
  loss: number;
  delayMs: number;
  /** extra delay uniform in [0, jitterMs): packets overtake each other */
  jitterMs: number;
  /** probability that a packet is delivered twice */
  dup: number;
}

export interface HookSpec {
  /** how long each simulated hook runs */
  durationMs: number;
  /** a hook is killed at this bound */
  timeoutMs: number;
  /** bound on waiting for hooks before answering `await-hooks` anyway */
  holdTimeoutMs: number;
  /** events whose hooks fail */
  fail: HookEvent[];
  /** when set, a failed lord hook makes the shell send `hook-failed` with this step-down */
  failStepdownMs: number | null;
}

export interface Timing {
  intervalMs: number;
  toleranceMs: number;
  jitter: number;
  preempt: boolean;
  preemptDelayMs: number;
  lordDelayMs: number;
}

export interface NodeSpec {
  name: string;
  valor: bigint;
  hooks: HookSpec;
}

export type PartitionShape =
  | { kind: 'groups'; groups: Target[][] }
  | { kind: 'isolate'; node: Target }
  /** packets from any of `from` to any of `to` are dropped; the other direction works */
  | { kind: 'one-way'; from: Target[]; to: Target[] }
  /** both directions between each pair are dropped (a bridge is one cut pair) */
  | { kind: 'cut'; pairs: [Target, Target][] }
  /** nodes on a ring in declaration order; each hears only those within `reach` steps */
  | { kind: 'ring'; reach: number };

export type Action =
  | { type: 'crash'; node: Target; restartAfterMs: number | null }
  | { type: 'shutdown'; node: Target; restartAfterMs: number | null }
  | { type: 'restart'; node: Target }
  | { type: 'pause'; node: Target; forMs: number | null }
  | { type: 'resume'; node: Target }
  | { type: 'partition'; shapes: PartitionShape[] }
  | { type: 'heal' }
  | { type: 'network'; link: Partial<LinkParams>; from: Target[] | null; to: Target[] | null }
  | { type: 'skew'; node: Target; byMs: number }
  | { type: 'set-valor'; node: Target; valor: bigint }
  | { type: 'stepdown'; node: Target; forMs: number }
  | { type: 'hooks'; node: Target | null; hooks: Partial<HookSpec> };

export const PROTOCOLS = ['native', 'uwsgi'] as const;
export type ProtocolName = (typeof PROTOCOLS)[number];

export const HEARTBEAT_MODES = ['full', 'folded'] as const;
export type HeartbeatMode = (typeof HEARTBEAT_MODES)[number];

export interface TimelineEntry {
  atMs: number;
  action: Action;
}

export interface Scenario {
  name: string;
  description: string;
  durationMs: number;
  quorum: number;
  timing: Timing;
  network: LinkParams;
  nodes: NodeSpec[];
  /** `uwsgi`: the uWSGI-compatible core and codec (always encrypted; no folded heartbeats) */
  protocol: ProtocolName;
  /** authenticated packets (AES-256-GCM) instead of plaintext; native protocol only */
  secure: boolean;
  /** restarted nodes start from the highest epoch they knew, as with a state directory */
  persistEpoch: boolean;
  /** time after each fault excluded from steady-state figures */
  settleMs: number;
  /** spacing of the copies of a death announce */
  repeatSpacingMs: number;
  replayWindowMs: number;
  /** `folded`: repeats of unchanged announces skip the packet path (sim/heartbeats.ts) */
  heartbeats: HeartbeatMode;
  /** run nodes one after another within windows shorter than the fastest link (sim/window.ts) */
  windowed: boolean;
  timeline: TimelineEntry[];
}

/** The daemon's config defaults (src/config/schema.ts), so a scenario without timing runs what users run. */
export const DEFAULT_TIMING: Timing = {
  intervalMs: 250,
  toleranceMs: 1000,
  jitter: 0.2,
  preempt: true,
  preemptDelayMs: 0,
  lordDelayMs: 0,
};

export const DEFAULT_NETWORK: LinkParams = { loss: 0, delayMs: 1, jitterMs: 1, dup: 0 };

export const DEFAULT_HOOKS: HookSpec = {
  durationMs: 0,
  timeoutMs: 10_000,
  holdTimeoutMs: 15_000,
  fail: [],
  failStepdownMs: null,
};
