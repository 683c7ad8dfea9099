/** Loads and validates scenario YAML into a `Scenario`; every mistake is a ScenarioError naming file and key. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';
import type { HookEvent } from '../src/legion/types.js';
import { Reader, ScenarioError } from './yaml-reader.js';
import {
  type Action,
  DEFAULT_HOOKS,
  DEFAULT_NETWORK,
  DEFAULT_TIMING,
  type HookSpec,
  type LinkParams,
  type NodeSpec,
  type PartitionShape,
  type Scenario,
  TARGET_WORDS,
  type Target,
  type TimelineEntry,
  type Timing,
} from './scenario-types.js';

export { ScenarioError } from './yaml-reader.js';

const HOOK_EVENTS: readonly HookEvent[] = ['setup', 'join', 'lord', 'unlord', 'node-joined', 'node-left', 'death'];
const TOP_KEYS = [
  'name',
  'description',
  'duration',
  'quorum',
  'timing',
  'network',
  'nodes',
  'hooks',
  'secure',
  'persist_epoch',
  'settle',
  'repeat_spacing',
  'replay_window',
  'timeline',
];
const ACTIONS = [
  'crash',
  'shutdown',
  'restart',
  'pause',
  'resume',
  'partition',
  'heal',
  'loss',
  'network',
  'skew',
  'set-valor',
  'stepdown',
  'hooks',
] as const;

export function loadScenario(file: string): Scenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(`${file}: cannot read: ${(e as Error).message}`);
  }
  return parseScenario(text, file);
}

export function parseScenario(text: string, source = 'scenario'): Scenario {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ScenarioError(`${source}: not valid YAML: ${(e as Error).message}`);
  }
  return readScenario(new Reader(source, '', doc), basename(source).replace(/\.ya?ml$/, ''));
}

/** Validates an already-parsed document (tests and generators build scenarios as objects). */
export function scenarioFromObject(doc: unknown, source = 'scenario'): Scenario {
  return readScenario(new Reader(source, '', doc), source);
}

function readScenario(r: Reader, fallbackName: string): Scenario {
  const top = r.object(TOP_KEYS);
  const nodes = readNodes(r.at('nodes'), readHooks(r.at('hooks'), DEFAULT_HOOKS));
  const names = new Set(nodes.map((n) => n.name));
  const timing = readTiming(r.at('timing'));
  const q = r.at('quorum');
  let quorum = 1;
  if (q.value === 'majority') quorum = Math.floor(nodes.length / 2) + 1;
  else if (q.present) quorum = q.integer(1, nodes.length);
  const durationMs = r.at('duration').present ? r.at('duration').duration() : 60_000;
  if (durationMs <= 0) r.at('duration').fail('must be positive');
  const timeline = r.at('timeline').present
    ? r
        .at('timeline')
        .list()
        .map((e) => readEntry(e, names))
    : [];
  for (const e of timeline) {
    if (e.atMs > durationMs) r.at('timeline').fail(`an entry at ${e.atMs} ms is after the end (${durationMs} ms)`);
  }
  timeline.sort((a, b) => a.atMs - b.atMs);
  // long enough for a failover to finish: expiry, a few announce rounds, the configured delays,
  // and a departing lord's unlord hook
  const slowestHook = Math.max(...nodes.map((n) => Math.min(n.hooks.durationMs, n.hooks.timeoutMs)));
  const settleDefault =
    timing.toleranceMs + 4 * timing.intervalMs + timing.preemptDelayMs + timing.lordDelayMs + 2 * slowestHook;
  return {
    name: top.name === undefined ? fallbackName : r.at('name').string(),
    description: top.description === undefined ? '' : r.at('description').string(),
    durationMs,
    quorum,
    timing,
    network: readLink(r.at('network'), DEFAULT_NETWORK, false) as LinkParams,
    nodes,
    secure: r.at('secure').present ? r.at('secure').boolean() : false,
    persistEpoch: r.at('persist_epoch').present ? r.at('persist_epoch').boolean() : true,
    settleMs: r.at('settle').present ? r.at('settle').duration() : settleDefault,
    repeatSpacingMs: r.at('repeat_spacing').present ? r.at('repeat_spacing').duration() : 15,
    replayWindowMs: r.at('replay_window').present ? r.at('replay_window').duration() : 30_000,
    timeline,
  };
}

function readTiming(r: Reader): Timing {
  if (!r.present) return { ...DEFAULT_TIMING };
  r.object(['interval', 'tolerance', 'jitter', 'preempt', 'preempt_delay', 'lord_delay']);
  const t: Timing = {
    intervalMs: r.at('interval').present ? r.at('interval').duration() : DEFAULT_TIMING.intervalMs,
    toleranceMs: r.at('tolerance').present ? r.at('tolerance').duration() : DEFAULT_TIMING.toleranceMs,
    jitter: r.at('jitter').present ? r.at('jitter').number(0, 0.5) : DEFAULT_TIMING.jitter,
    preempt: r.at('preempt').present ? r.at('preempt').boolean() : DEFAULT_TIMING.preempt,
    preemptDelayMs: r.at('preempt_delay').present ? r.at('preempt_delay').duration() : DEFAULT_TIMING.preemptDelayMs,
    lordDelayMs: r.at('lord_delay').present ? r.at('lord_delay').duration() : DEFAULT_TIMING.lordDelayMs,
  };
  if (t.intervalMs <= 0) r.at('interval').fail('must be positive');
  if (t.toleranceMs <= t.intervalMs) r.at('tolerance').fail('must be longer than the interval');
  return t;
}

function readLink(r: Reader, base: LinkParams, partial: boolean): Partial<LinkParams> {
  if (!r.present) return partial ? {} : { ...base };
  r.object(['loss', 'delay', 'jitter', 'dup']);
  const out: Partial<LinkParams> = partial ? {} : { ...base };
  if (r.at('loss').present) out.loss = r.at('loss').number(0, 1);
  if (r.at('delay').present) out.delayMs = r.at('delay').duration();
  if (r.at('jitter').present) out.jitterMs = r.at('jitter').duration();
  if (r.at('dup').present) out.dup = r.at('dup').number(0, 1);
  return out;
}

function readHooks(r: Reader, base: HookSpec): HookSpec {
  return { ...base, ...readHookPatch(r) };
}

function readHookPatch(r: Reader, extra: readonly string[] = []): Partial<HookSpec> {
  if (!r.present) return {};
  r.object(['duration', 'timeout', 'hold_timeout', 'fail', 'fail_stepdown', ...extra]);
  const out: Partial<HookSpec> = {};
  if (r.at('duration').present) out.durationMs = r.at('duration').duration();
  if (r.at('timeout').present) out.timeoutMs = r.at('timeout').duration();
  if (r.at('hold_timeout').present) out.holdTimeoutMs = r.at('hold_timeout').duration();
  if (r.at('fail').present) {
    out.fail = r
      .at('fail')
      .list()
      .map((e) => e.oneOf(HOOK_EVENTS));
  }
  if (r.at('fail_stepdown').present) out.failStepdownMs = r.at('fail_stepdown').duration();
  return out;
}

function readNodes(r: Reader, hooks: HookSpec): NodeSpec[] {
  if (!r.present) r.fail('a scenario needs nodes');
  const out: NodeSpec[] = [];
  const seen = new Set<string>();
  const add = (name: string, valor: bigint, h: HookSpec, where: Reader) => {
    if (seen.has(name)) where.fail(`duplicate node name "${name}"`);
    if ((TARGET_WORDS as readonly string[]).includes(name)) where.fail(`"${name}" is reserved for targets`);
    seen.add(name);
    out.push({ name, valor, hooks: h });
  };
  for (const e of r.list()) {
    e.object(['name', 'valor', 'count', 'prefix', 'hooks']);
    const valor = e.at('valor').present ? e.at('valor').u64() : 1n;
    const h = readHooks(e.at('hooks'), hooks);
    if (e.at('count').present) {
      if (e.at('name').present) e.fail('give either name or count, not both');
      const count = e.at('count').integer(1, 100_000);
      const prefix = e.at('prefix').present ? e.at('prefix').string() : 'n';
      for (let i = 1; i <= count; i++) add(`${prefix}${out.length + 1}`, valor, h, e);
    } else {
      add(e.at('name').string(), valor, h, e.at('name'));
    }
  }
  if (out.length === 0) r.fail('a scenario needs at least one node');
  return out;
}

function readEntry(r: Reader, names: Set<string>): TimelineEntry {
  const obj = r.object(['at', ...ACTIONS]);
  const atMs = r.at('at').duration();
  const keys = Object.keys(obj).filter((k) => k !== 'at');
  if (keys.length !== 1) r.fail(`each entry needs "at" and exactly one action (${ACTIONS.join(', ')})`);
  const key = keys[0] as (typeof ACTIONS)[number];
  return { atMs, action: readAction(key, r.at(key), names) };
}

function target(r: Reader, names: Set<string>): Target {
  const t = r.string();
  if (!names.has(t) && !(TARGET_WORDS as readonly string[]).includes(t)) {
    r.fail(`unknown node "${t}" (nodes: ${[...names].slice(0, 10).join(', ')}${names.size > 10 ? ', …' : ''}; or ${TARGET_WORDS.join(', ')})`);
  }
  return t;
}

function targets(r: Reader, names: Set<string>): Target[] {
  if (typeof r.value === 'string') return [target(r, names)];
  return r.list().map((e) => target(e, names));
}

/** `crash: n1` or `crash: {node: n1, restart_after: 5s}` */
function nodeAnd(r: Reader, names: Set<string>, extra: string[]): { node: Target; r: Reader } {
  if (typeof r.value === 'string') return { node: target(r, names), r: new Reader(r.source, r.path, {}) };
  r.object(['node', ...extra]);
  return { node: target(r.at('node'), names), r };
}

function optDuration(r: Reader): number | null {
  return r.present ? r.duration() : null;
}

function readAction(key: (typeof ACTIONS)[number], r: Reader, names: Set<string>): Action {
  switch (key) {
    case 'crash':
    case 'shutdown': {
      const { node, r: o } = nodeAnd(r, names, ['restart_after']);
      return { type: key, node, restartAfterMs: optDuration(o.at('restart_after')) };
    }
    case 'restart':
      return { type: 'restart', node: target(r, names) };
    case 'resume':
      return { type: 'resume', node: target(r, names) };
    case 'pause': {
      const { node, r: o } = nodeAnd(r, names, ['for']);
      return { type: 'pause', node, forMs: optDuration(o.at('for')) };
    }
    case 'partition': {
      const shapes = Array.isArray(r.value) ? r.list().map((e) => readShape(e, names)) : [readShape(r, names)];
      return { type: 'partition', shapes };
    }
    case 'heal':
      return { type: 'heal' };
    case 'loss':
      return { type: 'network', link: { loss: r.number(0, 1) }, from: null, to: null };
    case 'network': {
      r.object(['loss', 'delay', 'jitter', 'dup', 'from', 'to']);
      const linkOnly = Object.fromEntries(
        Object.entries(r.value as Record<string, unknown>).filter(([k]) => k !== 'from' && k !== 'to'),
      );
      return {
        type: 'network',
        link: readLink(new Reader(r.source, r.path, linkOnly), DEFAULT_NETWORK, true),
        from: r.at('from').present ? targets(r.at('from'), names) : null,
        to: r.at('to').present ? targets(r.at('to'), names) : null,
      };
    }
    case 'skew': {
      r.object(['node', 'by']);
      return { type: 'skew', node: target(r.at('node'), names), byMs: r.at('by').signedDuration() };
    }
    case 'set-valor': {
      r.object(['node', 'valor']);
      return { type: 'set-valor', node: target(r.at('node'), names), valor: r.at('valor').u64() };
    }
    case 'stepdown': {
      const { node, r: o } = nodeAnd(r, names, ['for']);
      return { type: 'stepdown', node, forMs: o.at('for').present ? o.at('for').duration() : 30_000 };
    }
    case 'hooks': {
      const patch = readHookPatch(r, ['node']);
      return { type: 'hooks', node: r.at('node').present ? target(r.at('node'), names) : null, hooks: patch };
    }
  }
}

function readShape(r: Reader, names: Set<string>): PartitionShape {
  const obj = r.object(['groups', 'isolate', 'one_way', 'cut', 'ring']);
  const keys = Object.keys(obj);
  if (keys.length !== 1) r.fail('give exactly one of groups, isolate, one_way, cut, ring');
  switch (keys[0]) {
    case 'groups':
      return {
        kind: 'groups',
        groups: r
          .at('groups')
          .list()
          .map((g) => targets(g, names)),
      };
    case 'isolate':
      return { kind: 'isolate', node: target(r.at('isolate'), names) };
    case 'one_way': {
      const o = r.at('one_way');
      o.object(['from', 'to']);
      return { kind: 'one-way', from: targets(o.at('from'), names), to: targets(o.at('to'), names) };
    }
    case 'cut':
      return {
        kind: 'cut',
        pairs: r
          .at('cut')
          .list()
          .map((p) => {
            const t = targets(p, names);
            if (t.length !== 2) p.fail('a cut pair is [a, b]');
            return [t[0]!, t[1]!] as [Target, Target];
          }),
      };
    default:
      return { kind: 'ring', reach: r.at('ring').integer(1, 1000) };
  }
}
