/**
 * The discrete-event loop: one virtual clock, one seeded PRNG, one event queue, N node slots on a
 * simulated network, and the scenario's timeline of faults. Observers get every trace record as
 * it happens; the run's identity is the sha256 of those records.
 */

import { LegiondError } from '../src/errors.js';
import type { NativeState } from '../src/legion/machine.js';
import { type Effect, type Machine, takesHeartbeatsInBulk } from '../src/legion/types.js';
import type { Announce } from '../src/protocol/types.js';
import { BroadcastPlanner } from './broadcast.js';
import type { SimEvent } from './events.js';
import { applyAction } from './faults.js';
import { HeartbeatFolder } from './heartbeats.js';
import { type HostEnv, SimNode } from './host.js';
import { Network } from './network.js';
import { Observed } from './observed.js';
import { Prng } from './prng.js';
import { SimCounters } from './process.js';
import { type LordProbe, type SimProtocol, scenarioProtocol } from './protocol.js';
import { EventQueue } from './queue.js';
import type { HeartbeatMode, Scenario } from './scenario-types.js';
import type { VirtualOptions } from './spawner.js';
import { TraceHasher, type TraceListener, type TraceRecord } from './trace.js';
import { mergeRuns, Windows } from './window.js';
import { scenarioHasWork } from './work.js';

export { nativeProbe } from './protocol.js';

/** Wall time at virtual zero; fixed so runs do not depend on when they happen. */
export const WALL_BASE_MS = 1_700_000_000_000;

export interface SimOptions<S = NativeState> {
  seed: number;
  /** a core of the caller's own that speaks native announces, with its `probe`; default: the scenario's protocol */
  machine?: Machine<S, Announce>;
  probe?: LordProbe<S>;
  /** a protocol of the caller's own (sim/protocol.ts); overrides the scenario's and `machine` */
  protocol?: SimProtocol<S, unknown>;
  /** overrides the scenario's `secure` */
  secure?: boolean;
  /** record whom every node considers lord after each step (needed for pictures; costs a view per step) */
  trackViews?: boolean;
  listeners?: TraceListener[];
  /** overrides the scenario's `heartbeats` */
  heartbeats?: HeartbeatMode;
  /** overrides the scenario's `windowed` */
  windowed?: boolean;
  onLog?: (t: number, slot: number, e: Extract<Effect, { type: 'log' }>) => void;
  /** how the virtual processes' guards behave (sim/spawner.ts); default: by the guard contract */
  processes?: VirtualOptions;
}

/** lets every pending promise chain run: an immediate comes after all microtasks */
const settled = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function isLinkChange(type: string): boolean {
  return type === 'partition' || type === 'heal';
}

export interface SimStats {
  events: number;
  deliveries: number;
  counters: Record<string, number>;
}

export class Simulation<S = NativeState> {
  readonly scenario: Scenario;
  readonly rng: Prng;
  readonly network: Network;
  readonly nodes: SimNode<S>[];
  readonly hasher = new TraceHasher();
  /** lordship and status of every node as of the last record observers got */
  readonly observed: Observed;
  private readonly queue = new EventQueue<SimEvent>();
  private readonly copies: BroadcastPlanner;
  private readonly listeners: TraceListener[];
  private readonly counters = new SimCounters();
  private clock = 0;
  /** the bound of the current `run`, which a fan-out must not deliver past */
  private runUntil = Number.POSITIVE_INFINITY;
  private events = 0;
  private deliveries = 0;
  private finished = false;
  private booted = false;
  /** the core, its wire and how to read lordship from it */
  readonly protocol: SimProtocol<S, unknown>;
  /** set when heartbeats are folded (sim/heartbeats.ts) */
  readonly folder: HeartbeatFolder | null;
  /** set when events run node by node within windows (sim/window.ts) */
  private readonly windows: Windows | null;
  /**
   * Some node runs lord-only work (hooks, cron, attached daemons): the daemon's hook code, whose
   * promise chains must settle after each event, at its instant. Such a run goes through
   * runAsync, one event (one packet copy) at a time.
   */
  readonly lordWork: boolean;
  /** a bug met inside a promise chain (ProcessEnv.fail), thrown at the next settle */
  private failure: { error: unknown } | null = null;
  /** a window's records, held until it is done and then passed on in time order */
  private held: TraceRecord[] | null = null;
  /** where each node's records begin in `held`: each node's own records are in time order */
  private readonly runStarts: number[] = [];

  constructor(scenario: Scenario, options: SimOptions<S>) {
    this.scenario = scenario;
    this.rng = new Prng(options.seed);
    this.network = new Network(scenario.nodes.length, scenario.network);
    this.copies = new BroadcastPlanner(this.network, this.rng);
    this.observed = new Observed(scenario.nodes.length);
    this.listeners = [...(options.listeners ?? [])];
    const secure = options.secure ?? scenario.secure;
    this.protocol = options.protocol ?? scenarioProtocol(scenario, secure, options);
    const onLog = options.onLog;
    const folding = (options.heartbeats ?? scenario.heartbeats) === 'folded';
    if (folding && (this.protocol.fold === null || !takesHeartbeatsInBulk(this.protocol.machine))) {
      throw new LegiondError(
        'ERR_CONFIG',
        `folded heartbeats need a core that takes heartbeats in bulk (${this.protocol.name} here does not)`,
      );
    }
    this.folder = folding ? new HeartbeatFolder(scenario.nodes.length, this.network) : null;
    this.lordWork = scenarioHasWork(scenario);
    const windowed = options.windowed ?? scenario.windowed;
    if (windowed && this.lordWork) {
      throw new LegiondError(
        'ERR_CONFIG',
        `${scenario.name}: windowed scheduling runs nodes without lord-only work only (hooks, cron and daemons settle promises between events)`,
      );
    }
    const env: HostEnv<S> = {
      scenario,
      protocol: this.protocol,
      rng: this.rng,
      wallBaseMs: WALL_BASE_MS,
      trackViews: options.trackViews ?? false,
      folder: this.folder,
      counters: this.counters,
      now: () => this.clock,
      schedule: (at, ev) => this.schedule(at, ev),
      broadcast: (from, bytes, only) => this.broadcast(from, bytes, only),
      record: (r) => this.record(r),
      lordWork: this.lordWork,
      processes: options.processes ?? {},
      fail: (error) => {
        this.failure ??= { error };
      },
      ...(onLog
        ? { log: (slot: number, e: Extract<Effect, { type: 'log' }>) => onLog(this.clock, slot, e) }
        : {}),
    };
    this.nodes = scenario.nodes.map((spec, slot) => new SimNode(slot, spec.name, spec, env));
    this.windows = windowed
      ? new Windows({
          queue: this.queue,
          setClock: (t) => {
            this.clock = t;
          },
          turn: () => {
            if (this.held !== null) this.runStarts.push(this.held.length);
          },
          deliver: (slot, copy) => {
            this.deliveries++;
            this.nodes[slot]!.receive(copy);
          },
          dispatch: (ev) => this.dispatch(ev),
        })
      : null;
  }

  get now(): number {
    return this.clock;
  }

  get done(): boolean {
    return this.finished;
  }

  slotOf(name: string): number | undefined {
    const i = this.nodes.findIndex((n) => n.name === name);
    return i < 0 ? undefined : i;
  }

  /** called after each timeline action has been carried out (a fault's record comes before its effects) */
  readonly afterAction: ((t: number) => void)[] = [];

  /** listeners run after those given at construction, in the order added */
  addListener(l: TraceListener): void {
    this.listeners.push(l);
  }

  record(r: TraceRecord): void {
    if (this.held !== null) this.held.push(r);
    else this.pass(r);
  }

  private pass(r: TraceRecord): void {
    this.observed.update(r);
    this.hasher.add(r);
    for (const l of this.listeners) l(r);
  }

  schedule(at: number, ev: SimEvent): void {
    if (this.windows?.takes(at, ev)) return;
    this.queue.push(at, ev);
  }

  stats(): SimStats {
    return {
      events: this.events,
      deliveries: this.deliveries,
      counters: this.counters.snapshot(),
    };
  }

  /** Starts every node at time 0 (in declaration order) and queues the timeline. */
  private boot(): void {
    for (const e of this.scenario.timeline)
      this.queue.push(e.atMs, { k: 'action', action: e.action, followUp: false });
    this.queue.push(this.scenario.durationMs, { k: 'end' });
    for (const n of this.nodes) n.start();
  }

  /**
   * Runs to the scenario's end, or until `untilMs`, or for at most `maxEvents` events; returns
   * false once the end is reached. A run with lord-only work goes through runAsync.
   */
  run(untilMs = Number.POSITIVE_INFINITY, maxEvents = Number.POSITIVE_INFINITY): boolean {
    if (this.lordWork) {
      throw new LegiondError(
        'ERR_CONFIG',
        `${this.scenario.name} runs lord-only work (hooks, cron or daemons), whose promises settle between events: use runAsync`,
      );
    }
    if (this.finished) return false;
    if (!this.booted) {
      this.booted = true;
      this.boot();
    }
    for (let budget = maxEvents; budget > 0; budget--) {
      this.runUntil = untilMs;
      if (this.queue.peekTime() > untilMs) {
        this.clock = Math.max(this.clock, untilMs);
        return true;
      }
      if (this.windows !== null) {
        const ran = this.runWindow(this.windows, untilMs);
        if (ran > 0) {
          budget -= ran - 1;
          continue;
        }
      }
      if (!this.next()) return false;
    }
    return true;
  }

  /**
   * As run(), for every run: after each event the promise chains it started (the hook code's)
   * settle before the clock moves on, so they act at the event's instant. Deterministic: the
   * chains are the run's own, and nothing else runs between two events.
   */
  async runAsync(untilMs = Number.POSITIVE_INFINITY, maxEvents = Number.POSITIVE_INFINITY): Promise<boolean> {
    if (!this.lordWork) return this.run(untilMs, maxEvents);
    if (this.finished) return false;
    if (!this.booted) {
      this.booted = true;
      this.boot();
      await this.settle();
    }
    for (let budget = maxEvents; budget > 0; budget--) {
      this.runUntil = untilMs;
      if (this.queue.peekTime() > untilMs) {
        this.clock = Math.max(this.clock, untilMs);
        return true;
      }
      const more = this.next();
      await this.settle();
      if (!more) return false;
    }
    return true;
  }

  /** the next event of the queue; false at the end */
  private next(): boolean {
    const at = this.queue.peekTime();
    const item = this.queue.popItem();
    if (item === undefined) {
      this.finished = true;
      return false;
    }
    this.clock = at;
    this.events++;
    if (!this.dispatch(item)) {
      this.finished = true;
      return false;
    }
    return true;
  }

  private async settle(): Promise<void> {
    await settled();
    const f = this.failure;
    if (f !== null) {
      this.failure = null;
      this.finished = true;
      throw f.error;
    }
  }

  private runWindow(windows: Windows, untilMs: number): number {
    const held: TraceRecord[] = [];
    this.held = held;
    this.runStarts.length = 0;
    let ran: number;
    try {
      ran = windows.run(this.network.minLatencyMs(), untilMs);
    } finally {
      this.held = null;
    }
    // nodes ran one after another: put their records back in time order
    for (const r of mergeRuns(held, this.runStarts)) this.pass(r);
    this.events += ran;
    return ran;
  }

  private dispatch(ev: SimEvent): boolean {
    switch (ev.k) {
      case 'timer':
        if (ev.live) this.nodes[ev.slot]!.onTimer(ev);
        return true;
      case 'fanout':
        this.fanout(ev);
        return true;
      case 'host':
        this.nodes[ev.slot]!.onHostTimer(ev);
        return true;
      case 'action':
        // heartbeats are taken in bulk: a change of links must not apply to those already heard
        if (this.folder !== null && isLinkChange(ev.action.type))
          for (const n of this.nodes) n.refreshHeard();
        applyAction(this, ev.action, ev.followUp);
        for (const f of this.afterAction) f(this.clock);
        return true;
      case 'end':
        return false;
    }
  }

  /** Sends `bytes` from `from` to every other slot, or to those `only` accepts. */
  private broadcast(from: number, bytes: Uint8Array, only?: (to: number) => boolean): void {
    const ev = this.copies.plan(from, bytes, this.clock, this.nodes.length, only);
    if (ev !== null) this.queue.push(ev.at[0]!, ev);
  }

  /**
   * Delivers the copies due now, and on while they come before anything else queued; then the
   * broadcast goes back in the queue at its next copy's time.
   */
  private fanout(ev: Extract<SimEvent, { k: 'fanout' }>): void {
    const n = ev.at.length;
    do {
      this.clock = ev.at[ev.next]!;
      this.deliveries++;
      this.nodes[ev.to[ev.next]!]!.receive(ev);
      ev.next++;
      // with lord-only work each copy is an event of its own, after which promises settle
    } while (
      !this.lordWork &&
      ev.next < n &&
      ev.at[ev.next]! < this.queue.peekTime() &&
      ev.at[ev.next]! <= this.runUntil
    );
    if (ev.next < n) this.queue.push(ev.at[ev.next]!, ev);
  }
}
