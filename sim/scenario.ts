/** Loads and validates scenario YAML into a `Scenario`; every mistake is a ScenarioError naming file and key. */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parse } from 'yaml';
import { readCron, readDaemons, readHookPatch, readLink } from './scenario-fields.js';
import { readEntry } from './scenario-timeline.js';
import {
  type CronSpec,
  type DaemonSpec,
  DEFAULT_HOOKS,
  DEFAULT_NETWORK,
  DEFAULT_TIMING,
  HEARTBEAT_MODES,
  type HookSpec,
  type LinkParams,
  type NodeSpec,
  PROTOCOLS,
  type Scenario,
  TARGET_WORDS,
  type Timing,
} from './scenario-types.js';
import { Reader, ScenarioError } from './yaml-reader.js';

export { ScenarioError } from './yaml-reader.js';

const TOP_KEYS = [
  'name',
  'description',
  'duration',
  'quorum',
  'timing',
  'network',
  'nodes',
  'protocol',
  'hooks',
  'daemons',
  'cron',
  'secure',
  'persist_epoch',
  'settle',
  'repeat_spacing',
  'replay_window',
  'heartbeats',
  'windowed',
  'timeline',
];
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
  const work: Work = {
    hooks: readHooks(r.at('hooks'), DEFAULT_HOOKS),
    daemons: r.at('daemons').present ? readDaemons(r.at('daemons')) : [],
    cron: r.at('cron').present ? readCron(r.at('cron')) : [],
  };
  const nodes = readNodes(r.at('nodes'), work);
  const names = new Set(nodes.map((n) => n.name));
  const timing = readTiming(r.at('timing'));
  const q = r.at('quorum');
  let quorum = 1;
  // observers never vote: the majority is of the nodes that do
  if (q.value === 'majority') quorum = Math.floor(nodes.filter((n) => !n.observer).length / 2) + 1;
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
    if (e.atMs > durationMs)
      r.at('timeline').fail(`an entry at ${e.atMs} ms is after the end (${durationMs} ms)`);
  }
  timeline.sort((a, b) => a.atMs - b.atMs);
  const protocol = r.at('protocol').present ? r.at('protocol').oneOf(PROTOCOLS) : 'native';
  const heartbeats = r.at('heartbeats').present ? r.at('heartbeats').oneOf(HEARTBEAT_MODES) : 'full';
  if (protocol === 'uwsgi' && heartbeats === 'folded')
    r.at('heartbeats').fail('folded heartbeats need the native protocol (the uWSGI core takes every packet)');
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
    protocol,
    secure: r.at('secure').present ? r.at('secure').boolean() : false,
    persistEpoch: r.at('persist_epoch').present ? r.at('persist_epoch').boolean() : true,
    settleMs: r.at('settle').present ? r.at('settle').duration() : settleDefault,
    repeatSpacingMs: r.at('repeat_spacing').present ? r.at('repeat_spacing').duration() : 15,
    replayWindowMs: r.at('replay_window').present ? r.at('replay_window').duration() : 30_000,
    heartbeats,
    windowed: r.at('windowed').present ? r.at('windowed').boolean() : false,
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
    preemptDelayMs: r.at('preempt_delay').present
      ? r.at('preempt_delay').duration()
      : DEFAULT_TIMING.preemptDelayMs,
    lordDelayMs: r.at('lord_delay').present ? r.at('lord_delay').duration() : DEFAULT_TIMING.lordDelayMs,
  };
  if (t.intervalMs <= 0) r.at('interval').fail('must be positive');
  if (t.toleranceMs <= t.intervalMs) r.at('tolerance').fail('must be longer than the interval');
  return t;
}

function readHooks(r: Reader, base: HookSpec): HookSpec {
  return { ...base, ...readHookPatch(r) };
}

/** what a node runs besides the core: the scenario's, unless the node says otherwise */
interface Work {
  hooks: HookSpec;
  daemons: DaemonSpec[];
  cron: CronSpec[];
}

function readNodes(r: Reader, work: Work): NodeSpec[] {
  if (!r.present) r.fail('a scenario needs nodes');
  const out: NodeSpec[] = [];
  const seen = new Set<string>();
  const add = (name: string, valor: bigint, observer: boolean, w: Work, where: Reader) => {
    if (seen.has(name)) where.fail(`duplicate node name "${name}"`);
    if ((TARGET_WORDS as readonly string[]).includes(name)) where.fail(`"${name}" is reserved for targets`);
    seen.add(name);
    out.push({ name, valor, observer, hooks: w.hooks, daemons: w.daemons, cron: w.cron });
  };
  for (const e of r.list()) {
    e.object(['name', 'valor', 'role', 'count', 'prefix', 'hooks', 'daemons', 'cron']);
    const role = e.at('role').present ? e.at('role').oneOf(['member', 'observer'] as const) : 'member';
    const observer = role === 'observer';
    if (observer && e.at('valor').present) e.at('valor').fail('an observer has valor 0: remove valor');
    const valor = observer ? 0n : e.at('valor').present ? e.at('valor').u64() : 1n;
    const w: Work = {
      hooks: readHooks(e.at('hooks'), work.hooks),
      daemons: e.at('daemons').present ? readDaemons(e.at('daemons')) : work.daemons,
      cron: e.at('cron').present ? readCron(e.at('cron')) : work.cron,
    };
    if (e.at('count').present) {
      if (e.at('name').present) e.fail('give either name or count, not both');
      const count = e.at('count').integer(1, 100_000);
      const prefix = e.at('prefix').present ? e.at('prefix').string() : 'n';
      for (let i = 1; i <= count; i++) add(`${prefix}${out.length + 1}`, valor, observer, w, e);
    } else {
      add(e.at('name').string(), valor, observer, w, e.at('name'));
    }
  }
  if (out.length === 0) r.fail('a scenario needs at least one node');
  return out;
}
