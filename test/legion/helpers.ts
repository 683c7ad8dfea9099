/** A single native node under a fake clock, plus builders for peer announces. */

import { type NativeState, nativeMachine } from '../../src/legion/machine.js';
import type {
  Command,
  Ctx,
  Effect,
  HookEvent,
  Input,
  LegionEvent,
  LegionParams,
} from '../../src/legion/types.js';
import type { Announce, AnnounceFlags } from '../../src/protocol/types.js';

export function uuidOf(n: number): string {
  return `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;
}

/** mulberry32: small, seedable, good enough to spread jitter. */
export function seededRand(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function params(over: Partial<LegionParams> = {}): LegionParams {
  return {
    legion: 'test',
    uuid: uuidOf(1),
    // nodes are told apart by name when votes are counted, so each uuid gets its own
    name: over.uuid ? `node-${over.uuid.slice(-4)}` : 'self',
    valor: 10n,
    quorum: 1,
    intervalMs: 100,
    toleranceMs: 400,
    jitter: 0,
    preempt: true,
    preemptDelayMs: 0,
    lordDelayMs: 0,
    scroll: new Uint8Array(),
    initialEpoch: 0n,
    ...over,
  };
}

export interface PeerSpec {
  valor?: bigint;
  epoch?: bigint;
  vote?: string | null;
  flags?: Partial<AnnounceFlags>;
  name?: string;
  seen?: { uuid: string; agoMs: number }[];
  scroll?: Uint8Array;
  legion?: string;
}

export function announce(uuid: string, spec: PeerSpec = {}): Announce {
  const valor = spec.valor ?? 5n;
  return {
    legion: spec.legion ?? 'test',
    uuid,
    name: spec.name ?? `peer-${uuid.slice(-4)}`,
    valor,
    epoch: spec.epoch ?? 0n,
    vote: spec.vote === undefined ? null : spec.vote,
    flags: { lord: false, arbiter: valor === 0n, dead: false, draining: false, ...spec.flags },
    viewDigest: 0,
    scroll: spec.scroll ?? new Uint8Array(),
    seen: spec.seen ?? [],
  };
}

/** Drives one node; `now` only moves forward, and every step's effects are kept. */
export class Node {
  now = 0;
  state: NativeState;
  wakeAt = Number.POSITIVE_INFINITY;
  effects: Effect[] = [];
  last: Effect[] = [];
  /** answer every `await-hooks` at once, as a shell with no hooks configured does */
  autoDrain = false;
  readonly rand: () => number;

  constructor(
    readonly p: LegionParams = params(),
    seed = 1,
  ) {
    this.rand = seededRand(seed);
    this.state = nativeMachine.init(p, this.ctx());
  }

  ctx(): Ctx {
    return { now: this.now, rand: this.rand };
  }

  input(input: Input): Effect[] {
    const r = nativeMachine.step(this.state, input, this.ctx());
    this.state = r.state;
    this.wakeAt = r.wakeAt;
    this.last = r.effects;
    this.effects.push(...r.effects);
    if (this.autoDrain && r.effects.some((e) => e.type === 'await-hooks'))
      return [...r.effects, ...this.input({ type: 'hooks-drained' })];
    return r.effects;
  }

  start(): Effect[] {
    return this.input({ type: 'start' });
  }

  packet(a: Announce): Effect[] {
    return this.input({ type: 'packet', packet: a });
  }

  command(c: Command): Effect[] {
    return this.input({ type: 'command', command: c });
  }

  /** Moves time forward to `t`, ticking at every wakeAt on the way, as a shell would. */
  advanceTo(t: number): Effect[] {
    const out: Effect[] = [];
    let guard = 0;
    while (this.wakeAt <= t) {
      if (++guard > 100_000) throw new Error('busy loop: wakeAt does not advance');
      if (this.wakeAt <= this.now) throw new Error(`wakeAt ${this.wakeAt} not after now ${this.now}`);
      this.now = this.wakeAt;
      out.push(...this.input({ type: 'tick' }));
    }
    this.now = t;
    return out;
  }

  advance(ms: number): Effect[] {
    return this.advanceTo(this.now + ms);
  }

  get lord(): boolean {
    return this.state.lord;
  }

  view() {
    return nativeMachine.view(this.state, this.ctx());
  }
}

export function eventsOf(effects: Effect[], type?: HookEvent): LegionEvent[] {
  const out: LegionEvent[] = [];
  for (const e of effects)
    if (e.type === 'event' && (type === undefined || e.event.type === type)) out.push(e.event);
  return out;
}

export function sendsOf(effects: Effect[]): Announce[] {
  const out: Announce[] = [];
  for (const e of effects) if (e.type === 'send') out.push(e.packet);
  return out;
}

export function kinds(effects: Effect[]): string[] {
  return effects
    .filter((e) => e.type !== 'log')
    .map((e) => (e.type === 'event' ? `event:${e.event.type}` : e.type));
}
