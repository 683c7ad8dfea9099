/** The `timeline:` part of a scenario: entries, actions, targets and partition shapes. */
import { readHookPatch, readLink } from './scenario-fields.js';
import {
  type Action,
  DEFAULT_NETWORK,
  type PartitionShape,
  TARGET_WORDS,
  type Target,
  type TimelineEntry,
} from './scenario-types.js';
import { Reader } from './yaml-reader.js';

export const ACTIONS = [
  'crash',
  'shutdown',
  'restart',
  'pause',
  'resume',
  'freeze',
  'thaw',
  'partition',
  'heal',
  'loss',
  'network',
  'skew',
  'set-valor',
  'stepdown',
  'hooks',
] as const;

export function readEntry(r: Reader, names: Set<string>): TimelineEntry {
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
    r.fail(
      `unknown node "${t}" (nodes: ${[...names].slice(0, 10).join(', ')}${names.size > 10 ? ', …' : ''}; or ${TARGET_WORDS.join(', ')})`,
    );
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
    case 'crash': {
      const { node, r: o } = nodeAnd(r, names, ['restart_after', 'host']);
      const host = o.at('host').present ? o.at('host').boolean() : false;
      return { type: 'crash', node, restartAfterMs: optDuration(o.at('restart_after')), host };
    }
    case 'shutdown': {
      const { node, r: o } = nodeAnd(r, names, ['restart_after']);
      return { type: key, node, restartAfterMs: optDuration(o.at('restart_after')) };
    }
    case 'restart':
      return { type: 'restart', node: target(r, names) };
    case 'resume':
    case 'thaw':
      return { type: key, node: target(r, names) };
    case 'pause':
    case 'freeze': {
      const { node, r: o } = nodeAnd(r, names, ['for']);
      return { type: key, node, forMs: optDuration(o.at('for')) };
    }
    case 'partition': {
      const shapes = Array.isArray(r.value)
        ? r.list().map((e) => readShape(e, names))
        : [readShape(r, names)];
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
      const { node, r: o } = nodeAnd(r, names, ['for', 'repeat', 'every']);
      const forMs = o.at('for').present ? o.at('for').duration() : 30_000;
      const repeat = o.at('repeat').present ? o.at('repeat').integer(1, 10_000) : 1;
      if (repeat > 1 && !o.at('every').present) o.fail('a repeated stepdown needs "every"');
      const everyMs = o.at('every').present ? o.at('every').duration() : 0;
      if (repeat > 1 && everyMs <= 0) o.at('every').fail('must be positive');
      return { type: 'stepdown', node, forMs, repeat, everyMs };
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
