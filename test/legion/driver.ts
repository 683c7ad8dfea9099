/**
 * A tiny legion on virtual time for the native core: each node is the daemon's LegionRunner on a
 * virtual scheduler, every send reaches every other running node at the same instant (queued
 * after what is already due then), and `await-hooks` is answered `hooksMs` later. No loss, no
 * delay: just enough to check that nodes driven by the daemon's shell agree. (The simulator in
 * sim/ is the full version.)
 */
import pino from 'pino';
import { MemoryNetwork, ReferenceWire, VirtualTime } from '../../sim/virtual.js';
import { LegionRunner } from '../../src/daemon/legion-runner.js';
import { type NativeState, nativeMachine } from '../../src/legion/machine.js';
import type { Input, LegionEvent, LegionParams } from '../../src/legion/types.js';
import type { Announce } from '../../src/protocol/types.js';
import { seededRand } from './helpers.js';

export interface DriverNode {
  readonly uuid: string;
  /** the core's state after its last step (read only) */
  readonly state: NativeState;
  /** the wake-up the core asked for at its last step */
  readonly wakeAt: number;
  /** a crashed node neither steps nor sends */
  crashed: boolean;
  events: LegionEvent[];
  readonly runner: LegionRunner<NativeState, Announce>;
}

export interface DriverOptions {
  seed?: number;
  /** how long the shell takes to answer `await-hooks` with `hooks-drained` */
  hooksMs?: number;
}

const silent = pino({ level: 'silent' });

export class Driver {
  readonly nodes = new Map<string, DriverNode>();
  /** every packet encoded (each copy of a repeated one), in order, for assertions */
  readonly sent: { at: number; from: string; packet: Announce }[] = [];
  private readonly time = new VirtualTime();
  private readonly net = new MemoryNetwork(this.time, 0);
  private readonly wire = new ReferenceWire<Announce>();
  private readonly rand: () => number;
  private readonly hooksMs: number;
  private readonly started = new Set<string>();

  constructor(opts: DriverOptions = {}) {
    this.rand = seededRand(opts.seed ?? 1);
    this.hooksMs = opts.hooksMs ?? 0;
  }

  get now(): number {
    return this.time.now;
  }

  add(params: LegionParams): DriverNode {
    const time = this.time;
    let state: NativeState | null = null;
    let wakeAt = Number.POSITIVE_INFINITY;
    const runs = () => !node.crashed;
    const runner = new LegionRunner<NativeState, Announce>({
      params,
      machine: nativeMachine,
      codec: this.wire.codec((packet) => this.sent.push({ at: time.now, from: params.uuid, packet })),
      // packets before the start input find no one listening
      transport: this.net.endpoint(() => this.started.has(params.uuid) && runs()),
      scheduler: time.scheduler({ rand: this.rand, running: runs }),
      logger: silent,
      holdTimeoutMs: 1e9,
      sink: {
        onEvent: (e) => node.events.push(e),
        drained: () => Promise.resolve(),
        whenDrained: (done) => {
          time.at(time.now + this.hooksMs, () => {
            if (runs()) done();
          });
        },
      },
      onStep: (s, w) => {
        if (w <= time.now) throw new Error(`wakeAt ${w} <= now ${time.now}`);
        state = s;
        wakeAt = w;
      },
    });
    const node: DriverNode = {
      uuid: params.uuid,
      get state() {
        if (state === null) throw new Error(`${params.uuid} has not stepped yet`);
        return state;
      },
      get wakeAt() {
        return wakeAt;
      },
      crashed: false,
      events: [],
      runner,
    };
    this.nodes.set(params.uuid, node);
    return node;
  }

  /** Queues an input for `uuid` at absolute time `at` (>= now). */
  schedule(at: number, uuid: string, input: Input): void {
    this.time.at(at, () => this.input(uuid, input));
  }

  /** Hands a node an input now (what a shell takes from outside: start or a command). */
  input(uuid: string, input: Input): void {
    const node = this.nodes.get(uuid);
    if (!node || node.crashed) return;
    if (input.type === 'start') {
      this.started.add(uuid);
      node.runner.start();
    } else if (input.type === 'command') node.runner.command(input.command);
    else throw new Error(`the driver feeds ${input.type} through the runner, not by hand`);
  }

  crash(uuid: string): void {
    const n = this.nodes.get(uuid);
    if (n) n.crashed = true;
  }

  /** Runs every timer and delivery due up to `t`, then sets the clock to `t`. */
  runUntil(t: number): void {
    this.time.runUntil(t);
  }

  lords(): string[] {
    return [...this.nodes.values()].filter((n) => !n.crashed && n.state.lord).map((n) => n.uuid);
  }

  /** Whom each running node sees as lord (its view), keyed by node uuid. */
  views(): Map<string, string | null> {
    const out = new Map<string, string | null>();
    for (const n of this.nodes.values()) {
      if (n.crashed || n.state.phase !== 'running') continue;
      out.set(n.uuid, n.runner.view().lord?.uuid ?? null);
    }
    return out;
  }
}
