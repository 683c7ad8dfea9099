/**
 * A tiny in-memory network for the native core: every send reaches every other running node at
 * the same instant, and nodes are ticked at their wakeAt from a priority queue. No loss, no delay:
 * just enough to check that nodes driven by the pure core agree. (The simulator in sim/ is the
 * full version.)
 */

import { type NativeState, nativeMachine } from '../../src/legion/machine.js';
import type { Effect, Input, LegionEvent, LegionParams } from '../../src/legion/types.js';
import type { Announce } from '../../src/protocol/types.js';
import { seededRand } from './helpers.js';

export interface SimNode {
  readonly uuid: string;
  state: NativeState;
  wakeAt: number;
  /** a crashed node neither steps nor sends; a stopped one finished its death announce */
  crashed: boolean;
  events: LegionEvent[];
}

interface Timer {
  at: number;
  seq: number;
  uuid: string;
  input: Input;
}

/** Binary min-heap on (at, seq), so equal times run in insertion order. */
class Heap {
  private items: Timer[] = [];
  get size(): number {
    return this.items.length;
  }
  peek(): Timer | undefined {
    return this.items[0];
  }
  push(t: Timer): void {
    const a = this.items;
    a.push(t);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!less(a[i]!, a[p]!)) break;
      [a[i], a[p]] = [a[p]!, a[i]!];
      i = p;
    }
  }
  pop(): Timer | undefined {
    const a = this.items;
    const top = a[0];
    const last = a.pop();
    if (a.length > 0 && last) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && less(a[l]!, a[m]!)) m = l;
        if (r < a.length && less(a[r]!, a[m]!)) m = r;
        if (m === i) break;
        [a[i], a[m]] = [a[m]!, a[i]!];
        i = m;
      }
    }
    return top;
  }
}

function less(x: Timer, y: Timer): boolean {
  return x.at < y.at || (x.at === y.at && x.seq < y.seq);
}

export interface DriverOptions {
  seed?: number;
  /** how long the shell takes to answer `await-hooks` with `hooks-drained` */
  hooksMs?: number;
}

export class Driver {
  now = 0;
  readonly nodes = new Map<string, SimNode>();
  /** every send, in order, for assertions */
  readonly sent: { at: number; from: string; packet: Announce }[] = [];
  private readonly heap = new Heap();
  private seq = 0;
  private readonly rand: () => number;
  private readonly hooksMs: number;
  private readonly mail: { to: string; input: Input }[] = [];
  private delivering = false;

  constructor(opts: DriverOptions = {}) {
    this.rand = seededRand(opts.seed ?? 1);
    this.hooksMs = opts.hooksMs ?? 0;
  }

  add(params: LegionParams): SimNode {
    const node: SimNode = {
      uuid: params.uuid,
      state: nativeMachine.init(params, { now: this.now, rand: this.rand }),
      wakeAt: Number.POSITIVE_INFINITY,
      crashed: false,
      events: [],
    };
    this.nodes.set(params.uuid, node);
    return node;
  }

  /** Queues an input for `uuid` at absolute time `at` (>= now). */
  schedule(at: number, uuid: string, input: Input): void {
    this.heap.push({ at: Math.max(at, this.now), seq: this.seq++, uuid, input });
  }

  /** Delivers an input now, and everything it causes at this instant. */
  input(uuid: string, input: Input): void {
    this.mail.push({ to: uuid, input });
    if (this.delivering) return;
    this.delivering = true;
    try {
      for (let m = this.mail.shift(); m; m = this.mail.shift()) this.stepNode(m.to, m.input);
    } finally {
      this.delivering = false;
    }
  }

  crash(uuid: string): void {
    const n = this.nodes.get(uuid);
    if (n) n.crashed = true;
  }

  /** Runs every timer and wake-up due up to `t`, then sets the clock to `t`. */
  runUntil(t: number): void {
    let guard = 0;
    for (;;) {
      const next = this.heap.peek();
      if (!next || next.at > t) break;
      if (++guard > 1_000_000) throw new Error('driver: too many steps, busy loop?');
      this.heap.pop();
      const node = this.nodes.get(next.uuid);
      // A tick that a later step superseded is stale; the node has a newer wakeAt queued.
      if (next.input.type === 'tick' && node && node.wakeAt !== next.at) continue;
      this.now = next.at;
      this.input(next.uuid, next.input);
    }
    this.now = Math.max(this.now, t);
  }

  lords(): string[] {
    return [...this.nodes.values()].filter((n) => !n.crashed && n.state.lord).map((n) => n.uuid);
  }

  /** Whom each running node sees as lord (its view), keyed by node uuid. */
  views(): Map<string, string | null> {
    const out = new Map<string, string | null>();
    for (const n of this.nodes.values()) {
      if (n.crashed || n.state.phase !== 'running') continue;
      out.set(n.uuid, nativeMachine.view(n.state, { now: this.now, rand: this.rand }).lord?.uuid ?? null);
    }
    return out;
  }

  private stepNode(uuid: string, input: Input): void {
    const node = this.nodes.get(uuid);
    if (!node || node.crashed) return;
    const r = nativeMachine.step(node.state, input, { now: this.now, rand: this.rand });
    node.state = r.state;
    if (r.wakeAt <= this.now) throw new Error(`wakeAt ${r.wakeAt} <= now ${this.now}`);
    if (r.wakeAt !== node.wakeAt) {
      node.wakeAt = r.wakeAt;
      if (Number.isFinite(r.wakeAt)) this.schedule(r.wakeAt, uuid, { type: 'tick' });
    }
    for (const e of r.effects) this.apply(node, e);
  }

  private apply(node: SimNode, e: Effect): void {
    switch (e.type) {
      case 'send':
        this.sent.push({ at: this.now, from: node.uuid, packet: e.packet });
        for (let i = 0; i < (e.repeat ?? 1); i++) {
          for (const other of this.nodes.values()) {
            if (other.uuid !== node.uuid)
              this.mail.push({ to: other.uuid, input: { type: 'packet', packet: e.packet } });
          }
        }
        return;
      case 'event':
        node.events.push(e.event);
        return;
      case 'await-hooks':
        this.schedule(this.now + this.hooksMs, node.uuid, { type: 'hooks-drained' });
        return;
      case 'log':
      case 'stopped':
        return;
    }
  }
}
