/** Carries out timeline actions on a running simulation, resolving `lord`/`random`/`follower` when they fire. */
import { formatDuration } from './duration.js';
import type { SimNode } from './host.js';
import { cutLinks, groupsLinks, oneWayLinks, ringLinks } from './network.js';
import type { Action, PartitionShape, Target } from './scenario-types.js';
import type { Simulation } from './world.js';

/** A partition that cannot be drawn right now (`lord` while there is none): the fault is skipped. */
class Unresolvable extends Error {}

/** Slot of a target now, or null when the word matches no node (e.g. `lord` while there is none). */
export function resolveTarget<S>(sim: Simulation<S>, t: Target): number | null {
  const nodes = sim.nodes;
  if (t === 'lord') {
    let best: SimNode<S> | null = null;
    for (const n of nodes) {
      if (n.alive && n.lord && (best === null || n.lordEpoch > best.lordEpoch)) best = n;
    }
    return best ? best.slot : null;
  }
  if (t === 'random' || t === 'follower') {
    const pool = nodes.filter((n) => n.status === 'up' && (t === 'random' || !n.lord));
    return sim.rng.pick(pool)?.slot ?? null;
  }
  return sim.slotOf(t) ?? null;
}

function slotsOf<S>(sim: Simulation<S>, ts: Target[]): number[] {
  const out: number[] = [];
  for (const t of ts) {
    const s = resolveTarget(sim, t);
    if (s === null) throw new Unresolvable(`no node is "${t}" now`);
    if (!out.includes(s)) out.push(s);
  }
  return out;
}

function shapeLinks<S>(sim: Simulation<S>, shape: PartitionShape): [number, number][] {
  const size = sim.nodes.length;
  switch (shape.kind) {
    case 'groups': {
      const groups = shape.groups.map((g) => slotsOf(sim, g));
      const seen = new Set<number>();
      for (const s of groups.flat()) {
        if (seen.has(s)) throw new Unresolvable(`${sim.nodes[s]!.name} would be in two groups`);
        seen.add(s);
      }
      return groupsLinks(groups, size);
    }
    case 'isolate':
      return groupsLinks([slotsOf(sim, [shape.node])], size);
    case 'one-way':
      return oneWayLinks(slotsOf(sim, shape.from), slotsOf(sim, shape.to));
    case 'cut':
      return cutLinks(shape.pairs.map((p) => slotsOf(sim, p) as [number, number]));
    case 'ring':
      return ringLinks(size, shape.reach);
  }
}

function describeShape<S>(sim: Simulation<S>, shape: PartitionShape): string {
  const names = (ts: Target[]) => slotsOf(sim, ts).map((s) => sim.nodes[s]!.name);
  switch (shape.kind) {
    case 'groups':
      return `groups ${shape.groups.map((g) => `[${names(g).join(',')}]`).join(' ')} + rest`;
    case 'isolate':
      return `isolate ${names([shape.node]).join('')}`;
    case 'one-way':
      return `one-way ${names(shape.from).join(',')} -x-> ${names(shape.to).join(',')}`;
    case 'cut':
      return `cut ${shape.pairs.map((p) => names(p).join('x')).join(' ')}`;
    case 'ring':
      return `ring reach ${shape.reach}`;
  }
}

export function applyAction<S>(sim: Simulation<S>, action: Action, followUp: boolean): void {
  const t = sim.now;
  const fault = (slots: number[], text: string) =>
    sim.record({ t, kind: 'fault', action: action.type, slots, text });
  const skip = (why: string) =>
    sim.record({ t, kind: 'note', slot: null, text: `${action.type} skipped: ${why}` });
  const later = (ms: number, a: Action) => sim.schedule(t + ms, { k: 'action', action: a, followUp: true });

  if (action.type === 'partition') {
    let links: [number, number][];
    let text: string;
    try {
      links = action.shapes.flatMap((s) => shapeLinks(sim, s));
      text = action.shapes.map((s) => describeShape(sim, s)).join('; ');
    } catch (e) {
      if (e instanceof Unresolvable) {
        skip(e.message);
        return;
      }
      throw e;
    }
    sim.network.heal();
    for (const [a, b] of links) sim.network.block(a, b);
    const affected = [...new Set(links.flat())].sort((a, b) => a - b);
    fault(affected, `partition: ${text}`);
    return;
  }
  if (action.type === 'heal') {
    sim.network.heal();
    fault([], 'heal: every link restored');
    return;
  }
  if (action.type === 'network') {
    let from: number[] | null;
    let to: number[] | null;
    try {
      from = action.from ? slotsOf(sim, action.from) : null;
      to = action.to ? slotsOf(sim, action.to) : null;
    } catch (e) {
      if (e instanceof Unresolvable) {
        skip(e.message);
        return;
      }
      throw e;
    }
    sim.network.setLink(action.link, from, to);
    const what = Object.entries(action.link)
      .map(([k, v]) => `${k}=${k.endsWith('Ms') ? formatDuration(v as number) : v}`)
      .join(' ');
    const where =
      from || to
        ? ` on ${from ? from.map((s) => sim.nodes[s]!.name).join(',') : '*'} -> ${to ? to.map((s) => sim.nodes[s]!.name).join(',') : '*'}`
        : ' everywhere';
    fault([...(from ?? []), ...(to ?? [])], `network: ${what}${where}`);
    return;
  }
  if (action.type === 'hooks' && action.node === null) {
    for (const n of sim.nodes) n.setHooks(action.hooks);
    fault([], `hooks: ${JSON.stringify(action.hooks)} on every node`);
    return;
  }

  // a repeated stepdown goes on even when one of its turns finds nobody (`lord` while there is none)
  if (action.type === 'stepdown' && action.repeat > 1)
    later(action.everyMs, { ...action, repeat: action.repeat - 1 });
  const target = action.node as Target;
  const slot = resolveTarget(sim, target);
  if (slot === null) {
    skip(`no node is "${target}" now`);
    return;
  }
  const node = sim.nodes[slot]!;
  const who = target === node.name ? node.name : `${node.name} (${target})`;
  switch (action.type) {
    case 'crash':
      if (!node.alive) {
        skip(`${node.name} is not running`);
        return;
      }
      if (node.frozen && !action.host) {
        skip(`${node.name}'s host is frozen (a crash with host: true resets it)`);
        return;
      }
      fault([slot], `crash ${who}${action.host ? ' with its host' : ''}`);
      node.crash(action.host ? 'host crash' : 'crash', action.host);
      if (action.restartAfterMs !== null) later(action.restartAfterMs, { type: 'restart', node: node.name });
      return;
    case 'shutdown':
      if (!node.alive) {
        skip(`${node.name} is not running`);
        return;
      }
      fault([slot], `shutdown ${who}`);
      node.shutdown();
      if (action.restartAfterMs !== null) later(action.restartAfterMs, { type: 'restart', node: node.name });
      return;
    case 'restart':
      if (node.frozen) {
        skip(`${node.name}'s host is frozen`);
        return;
      }
      fault([slot], `${followUp ? 'scheduled ' : ''}restart ${who}${node.alive ? ' (killed first)' : ''}`);
      if (node.alive) node.crash('restart');
      node.start();
      return;
    case 'pause':
      if (node.status !== 'up') {
        skip(`${node.name} is not running`);
        return;
      }
      fault([slot], `pause ${who}${action.forMs !== null ? ` for ${formatDuration(action.forMs)}` : ''}`);
      node.pause();
      if (action.forMs !== null) later(action.forMs, { type: 'resume', node: node.name });
      return;
    case 'resume':
      if (node.status !== 'paused' || node.frozen) {
        skip(`${node.name} is not paused${node.frozen ? ' (its host is frozen)' : ''}`);
        return;
      }
      fault([slot], `resume ${who}`);
      node.resume();
      return;
    case 'freeze':
      if (node.status !== 'up') {
        skip(`${node.name} is not running`);
        return;
      }
      fault(
        [slot],
        `freeze ${who}'s host${action.forMs !== null ? ` for ${formatDuration(action.forMs)}` : ''}`,
      );
      node.freeze();
      if (action.forMs !== null) later(action.forMs, { type: 'thaw', node: node.name });
      return;
    case 'thaw':
      if (!node.frozen) {
        skip(`${node.name}'s host is not frozen`);
        return;
      }
      fault([slot], `thaw ${who}'s host`);
      node.thaw();
      return;
    case 'skew':
      fault([slot], `skew ${who} wall clock by ${action.byMs} ms`);
      node.skewMs = action.byMs;
      return;
    case 'set-valor':
      fault([slot], `set-valor ${who} ${action.valor}`);
      node.setValor(action.valor);
      return;
    case 'stepdown': {
      const left = action.repeat - 1;
      const more = left > 0 ? `, again in ${formatDuration(action.everyMs)} (${left} more)` : '';
      fault([slot], `stepdown ${who} for ${formatDuration(action.forMs)}${more}`);
      node.drainUntilMs = t + action.forMs;
      node.command({ type: 'stepdown', forMs: action.forMs });
      return;
    }
    case 'hooks':
      fault([slot], `hooks: ${JSON.stringify(action.hooks)} on ${who}`);
      node.setHooks(action.hooks);
      return;
  }
}
