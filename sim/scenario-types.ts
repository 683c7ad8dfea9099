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
  /**
   * the events that have a hook (one command each); null: every event when the hooks take time
   * or fail (`durationMs` > 0 or `fail` not empty), none otherwise
   */
  events: HookEvent[] | null;
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

/** An attached daemon (config `daemons:`) and how its virtual process behaves. */
export interface DaemonSpec {
  /** between legiond's SIGTERM and its SIGKILL on a stop */
  graceMs: number;
  /** the first restart delay (doubles) */
  backoffMs: number;
  /** after a SIGTERM the process takes this long to exit (a SIGKILL ends it at once) */
  termMs: number;
  /** the process exits (status 1) on its own after this long; null: it runs until stopped */
  exitAfterMs: number | null;
}

/** A cron entry (config `cron:`) and how long each of its runs takes. */
export interface CronSpec {
  /** a croner pattern; six fields take seconds first (`*\/2 * * * * *`: every 2 s) */
  schedule: string;
  durationMs: number;
  /** after a SIGTERM a run takes this long to exit */
  termMs: number;
  /** legiond kills a run after this long; null: no timeout */
  timeoutMs: number | null;
}

export interface NodeSpec {
  name: string;
  valor: bigint;
  /** `role: observer`: follows only (valor 0, no vote, never counted) */
  observer: boolean;
  hooks: HookSpec;
  daemons: DaemonSpec[];
  cron: CronSpec[];
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
  /** legiond is killed; `host`: the whole host goes down with every process on it */
  | { type: 'crash'; node: Target; restartAfterMs: number | null; host: boolean }
  | { type: 'shutdown'; node: Target; restartAfterMs: number | null }
  | { type: 'restart'; node: Target }
  | { type: 'pause'; node: Target; forMs: number | null }
  | { type: 'resume'; node: Target }
  /** the whole host stops (a VM pause): legiond, the guards and every process on it */
  | { type: 'freeze'; node: Target; forMs: number | null }
  | { type: 'thaw'; node: Target }
  | { type: 'partition'; shapes: PartitionShape[] }
  | { type: 'heal' }
  | { type: 'network'; link: Partial<LinkParams>; from: Target[] | null; to: Target[] | null }
  | { type: 'skew'; node: Target; byMs: number }
  | { type: 'set-valor'; node: Target; valor: bigint }
  /** `legionctl stepdown --for`, `repeat` times in all, `everyMs` apart (the target resolved each time) */
  | { type: 'stepdown'; node: Target; forMs: number; repeat: number; everyMs: number }
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
  events: null,
  durationMs: 0,
  timeoutMs: 10_000,
  holdTimeoutMs: 15_000,
  fail: [],
  failStepdownMs: null,
};

export const DEFAULT_DAEMON: DaemonSpec = { graceMs: 5000, backoffMs: 1000, termMs: 0, exitAfterMs: null };

export const DEFAULT_CRON: Omit<CronSpec, 'schedule'> = { durationMs: 500, termMs: 0, timeoutMs: null };
