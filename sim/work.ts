/**
 * What a simulated node runs besides its core, as the daemon sees it: the legion's config
 * (`LegionConfig`, built from the scenario: timing, hooks, cron entries, attached daemons), and
 * how each virtual process it starts behaves (sim/spawner.ts). Commands name the scenario's
 * entries (`sim-hook`, `sim-daemon 0`, `sim-cron 1`), so a process finds its model when it starts.
 */
import type { LegionConfig } from '../src/config/types.js';
import type { HookCommand } from '../src/hooks/index.js';
import { HOOK_EVENTS, type HookEvent, LIFECYCLE_EVENTS } from '../src/legion/types.js';
import type { CronSpec, DaemonSpec, HookSpec, Scenario } from './scenario-types.js';
import type { Behaviour } from './spawner.js';

/** What a node slot runs, as the scenario (and its timeline since) says now. */
export interface NodeWork {
  readonly name: string;
  readonly valor: bigint;
  readonly observer: boolean;
  readonly hooks: HookSpec;
  readonly daemons: readonly DaemonSpec[];
  readonly cron: readonly CronSpec[];
}

const HOOK: HookCommand = ['sim-hook'];

/**
 * the events that have a hook: `events`, or every lifecycle event when hooks take time or fail
 * (follower events only when named: hooks run one at a time, so a slow lord-changed hook on every
 * node would hold back the lord and unlord hooks the scenarios are about)
 */
export function hookEvents(h: HookSpec): readonly HookEvent[] {
  if (h.events !== null) return h.events;
  return h.durationMs > 0 || h.fail.length > 0 ? LIFECYCLE_EVENTS : [];
}

export function hasWork(n: Pick<NodeWork, 'hooks' | 'daemons' | 'cron'>): boolean {
  return hookEvents(n.hooks).length > 0 || n.daemons.length > 0 || n.cron.length > 0;
}

/**
 * Whether any node of the run starts a process, now or after a `hooks` action. Such a run needs
 * the asynchronous loop (Simulation.runAsync): the hook code's promises settle between events.
 */
export function scenarioHasWork(sc: Scenario): boolean {
  if (sc.nodes.some(hasWork)) return true;
  return sc.timeline.some(
    (e) =>
      e.action.type === 'hooks' &&
      sc.nodes.some(
        (n) => hookEvents({ ...n.hooks, ...(e.action as { hooks: Partial<HookSpec> }).hooks }).length > 0,
      ),
  );
}

/** The config a legiond of this node would load. */
export function legionConfig(sc: Scenario, slot: number, n: NodeWork): LegionConfig {
  const t = sc.timing;
  const events = new Set(hookEvents(n.hooks));
  const hooks = Object.fromEntries(HOOK_EVENTS.map((e) => [e, events.has(e) ? [HOOK] : []])) as Record<
    HookEvent,
    HookCommand[]
  >;
  return {
    name: sc.name,
    protocol: sc.protocol,
    backend: 'udp',
    engine: null,
    valor: n.valor,
    observer: n.observer,
    nodeName: n.name,
    bind: { host: 'sim', port: slot },
    peers: [],
    peerResolveIntervalMs: 0,
    learnPeers: false,
    learnedPeersMax: 1,
    multicast: null,
    quorum: sc.quorum,
    intervalMs: t.intervalMs,
    toleranceMs: t.toleranceMs,
    jitter: t.jitter,
    preempt: t.preempt,
    preemptDelayMs: t.preemptDelayMs,
    lordDelayMs: t.lordDelayMs,
    scroll: new Uint8Array(0),
    scrollFile: null,
    secretFile: null,
    acceptSecretFiles: [],
    insecure: !sc.secure,
    uwsgi: { cipher: 'aes-128-cbc', iv: null },
    hooks,
    hookTimeoutMs: n.hooks.timeoutMs,
    holdTimeoutMs: n.hooks.holdTimeoutMs,
    lordHookFailure: n.hooks.failStepdownMs === null ? null : { stepdownMs: n.hooks.failStepdownMs },
    cron: n.cron.map((c, i) => ({
      schedule: c.schedule,
      command: ['sim-cron', String(i)],
      timeoutMs: c.timeoutMs,
    })),
    daemons: n.daemons.map((d, i) => ({
      command: ['sim-daemon', String(i)],
      graceMs: d.graceMs,
      restartBackoffMs: d.backoffMs,
    })),
    checks: [],
  };
}

/** How the process `cmd` behaves on this node, by the node's specs at its start. */
export function behaviour(n: NodeWork, cmd: HookCommand, env: NodeJS.ProcessEnv): Behaviour {
  const [what, index] = typeof cmd === 'string' ? [cmd, undefined] : [cmd[0], cmd[1]];
  if (what === 'sim-daemon') {
    const d = n.daemons[Number(index)];
    if (d) return { work: 'daemon', runMs: d.exitAfterMs, exitCode: 1, termMs: d.termMs };
  } else if (what === 'sim-cron') {
    const c = n.cron[Number(index)];
    if (c) return { work: 'cron', runMs: c.durationMs, exitCode: 0, termMs: c.termMs };
  } else if (what === 'sim-hook') {
    const event = (env.LEGION_EVENT ?? '') as HookEvent;
    const h = n.hooks;
    return {
      work: `hook-${event}`,
      runMs: h.durationMs,
      exitCode: h.fail.includes(event) ? 1 : 0,
      termMs: 0,
    };
  }
  // an entry a reload removed while its process starts: it exits at once, failing
  return { work: String(what), runMs: 0, exitCode: 127, termMs: 0 };
}
