/**
 * One node slot of the simulation: the daemon's own LegionRunner (src/daemon/legion-runner.ts)
 * on simulated ends (sim/process.ts: clock and timers on the event queue, a socket on the
 * simulated network, the real codecs) with simulated hooks behind its EventSink. A slot keeps its
 * name and network position across restarts; each incarnation gets a new UUID, a new runner, new
 * codec state and new hooks.
 *
 * Around the runner the slot plays the process: a crash drops it, state, timers and hooks alike.
 * A pause freezes it: timers that come due wait, datagrams and hook completions queue; on resume
 * the due timers run first, then the rest in arrival order, as in Node after SIGCONT.
 */
import type { EventSink } from '../src/daemon/legion-runner.js';
import { LegionRunner } from '../src/daemon/legion-runner.js';
import type { WireCodec } from '../src/daemon/wire.js';
import { isLegiondError } from '../src/errors.js';
import type { Command, HookEvent, LegionEvent } from '../src/legion/types.js';
import type { TimerEvent } from './events.js';
import { SimHooks } from './hooks.js';
import {
  FoldingTransport,
  NodeScheduler,
  type ProcessEnv,
  type ProcessSlot,
  SimLogger,
  SimTransport,
} from './process.js';
import type { Copy, SimProtocol, SimWire } from './protocol.js';
import type { HookSpec, NodeSpec, Scenario } from './scenario-types.js';
import type { NodeStatus } from './trace.js';

export type { Copy, LordProbe } from './protocol.js';

export interface HostEnv<S> extends ProcessEnv {
  readonly scenario: Scenario;
  readonly protocol: SimProtocol<S, unknown>;
  /** compute whom each node considers lord after every step (costs a view per step) */
  readonly trackViews: boolean;
}

/** what a paused process finds waiting when it resumes: datagrams, and calls from its hooks */
type Waiting = Copy | (() => void);

export class SimNode<S> implements ProcessSlot {
  status: NodeStatus = 'down';
  uuid = '';
  /** bumped at every start and crash: events of a former incarnation are void */
  inc = 0;
  valor: bigint;
  hooks: HookSpec;
  skewMs = 0;
  lord = false;
  lordEpoch = 0n;
  /** highest epoch this slot ever knew, handed to a restart as a state directory would */
  knownEpoch = 0n;
  viewLord: string | null = null;
  /** until when the node is not a candidate (stepdown or a failed lord hook), for the checker */
  drainUntilMs = Number.NEGATIVE_INFINITY;
  /** set while a resumed node runs its overdue timers, which come before what it missed */
  deaf = false;
  private runner: LegionRunner<S, unknown> | null = null;
  private transport: SimTransport | null = null;
  /** the core's state after its last step, for observers */
  private state: S | null = null;
  private hookRunner: SimHooks;
  private readonly dueTimers: TimerEvent[] = [];
  private readonly inbox: Waiting[] = [];

  constructor(
    readonly slot: number,
    readonly name: string,
    spec: NodeSpec,
    private readonly env: HostEnv<S>,
  ) {
    this.valor = spec.valor;
    this.hooks = { ...spec.hooks, fail: [...spec.hooks.fail] };
    this.hookRunner = this.newHooks();
  }

  get running(): boolean {
    return this.status === 'up';
  }

  get alive(): boolean {
    return this.status === 'up' || this.status === 'paused';
  }

  get coreState(): S | null {
    return this.state;
  }

  /** A new process on this slot: new identity, new codec state, epoch from the "state directory". */
  start(): void {
    const env = this.env;
    const sc = env.scenario;
    const proto = env.protocol;
    this.inc++;
    // native: the opener's copy, which packets will carry (votes and the folder compare references)
    this.uuid = proto.identity(env.rng.uuid());
    this.status = 'up';
    this.lord = false;
    this.lordEpoch = 0n;
    this.viewLord = null;
    this.deaf = false;
    this.inbox.length = 0;
    this.dueTimers.length = 0;
    this.hookRunner = this.newHooks();
    const scheduler = new NodeScheduler(env, this, this.inc);
    const wire = proto.wire(env.rng, scheduler.wall);
    const folder = env.folder;
    const transport =
      folder !== null && proto.fold !== null
        ? new FoldingTransport(env, this, folder, proto.fold)
        : new SimTransport(env, this);
    this.transport = transport;
    folder?.started(this.slot, this.uuid);
    const initialEpoch = sc.persistEpoch ? this.knownEpoch : 0n;
    const t = sc.timing;
    this.runner = new LegionRunner<S, unknown>({
      params: {
        legion: sc.name,
        uuid: this.uuid,
        name: this.name,
        valor: this.valor,
        quorum: sc.quorum,
        intervalMs: t.intervalMs,
        toleranceMs: t.toleranceMs,
        jitter: t.jitter,
        preempt: t.preempt,
        preemptDelayMs: t.preemptDelayMs,
        lordDelayMs: t.lordDelayMs,
        scroll: new Uint8Array(0),
        initialEpoch,
        // the trace needs no member lists, and building one per node event is O(N)
        eventMembers: false,
        ...proto.extraParams(this.slot),
      },
      machine: proto.machine,
      codec: this.codec(wire, transport),
      transport,
      sink: this.sink(this.hookRunner),
      logger: new SimLogger(env, this.slot),
      scheduler,
      holdTimeoutMs: () => this.hooks.holdTimeoutMs,
      repeatSpacingMs: sc.repeatSpacingMs,
      onStep: (state) => this.afterStep(state),
    });
    env.record({
      t: env.now(),
      kind: 'start',
      slot: this.slot,
      uuid: this.uuid,
      valor: this.valor,
      epoch: initialEpoch,
    });
    this.runner.start();
  }

  /** The process dies: no death announce, hooks killed, state gone. */
  crash(why: string): void {
    if (!this.alive) return;
    this.inc++;
    this.status = 'down';
    this.runner = null;
    void this.transport?.close();
    this.env.folder?.stopped(this.slot);
    this.dropLordship();
    this.recordStatus('down', why);
  }

  pause(): void {
    if (this.status !== 'up') return;
    this.status = 'paused';
    this.recordStatus('paused', 'pause');
  }

  /** As in Node after SIGCONT: the expired timers run before the socket is read. */
  resume(): void {
    if (this.status !== 'paused') return;
    this.status = 'up';
    this.recordStatus('up', 'resume');
    if (this.dueTimers.length > 0) {
      this.deaf = true;
      try {
        for (const ev of this.dueTimers.splice(0)) if (this.status === 'up') this.fire(ev);
      } finally {
        this.deaf = false;
      }
    }
    while (this.inbox.length > 0 && this.status === 'up') {
      const w = this.inbox.shift()!;
      if (typeof w === 'function') w();
      else this.transport!.deliver(w);
    }
  }

  command(command: Command): void {
    const runner = this.runner;
    if (runner === null) return;
    if (this.status === 'paused') this.inbox.push(() => runner.command(command));
    else if (this.status === 'up') runner.command(command);
  }

  /** A timer of this slot's runner came due. */
  onTimer(ev: TimerEvent): void {
    if (ev.inc !== this.inc || this.status === 'down') return;
    if (this.status === 'paused') this.dueTimers.push(ev);
    else this.fire(ev);
  }

  /** A copy of a broadcast arrives. */
  receive(copy: Copy): void {
    if (this.status === 'up') this.transport!.deliver(copy);
    else if (this.status === 'paused') this.inbox.push(copy);
  }

  onHookDone(inc: number): void {
    if (inc === this.inc) this.hookRunner.onDone();
  }

  /**
   * With folded heartbeats: hands the core the heartbeats heard so far, now (the simulation
   * calls it before links change, which must not apply to heartbeats already heard).
   */
  refreshHeard(): void {
    if (this.status === 'up') this.runner?.refreshHeard();
  }

  private fire(ev: TimerEvent): void {
    if (!ev.live) return;
    ev.live = false;
    ev.fn();
  }

  /** Hooks belong to one incarnation: a crash kills them, their timers die with `inc`. */
  private newHooks(): SimHooks {
    const inc = this.inc;
    const env = this.env;
    return new SimHooks(() => this.hooks, {
      now: () => env.now(),
      timer: (at) => env.schedule(at, { k: 'hook-done', slot: this.slot, inc }),
      finished: (event, ok, ranMs) => this.hookFinished(event, ok, ranMs),
    });
  }

  private sink(hooks: SimHooks): EventSink {
    return {
      onEvent: (ev) => this.onEvent(ev),
      drained: () => new Promise((resolve) => this.sinkDrained(hooks, resolve)),
      whenDrained: (done) => this.sinkDrained(hooks, done),
      onHoldTimeout: () =>
        this.env.record({
          t: this.env.now(),
          kind: 'note',
          slot: this.slot,
          text: 'hooks still running at hold timeout',
        }),
    };
  }

  /** the hooks are idle: the process learns it at once, or on resume when it is frozen */
  private sinkDrained(hooks: SimHooks, done: () => void): void {
    hooks.whenIdle(() => {
      if (this.status === 'paused') this.inbox.push(done);
      else if (this.status !== 'down') done();
    });
  }

  private onEvent(ev: LegionEvent): void {
    const env = this.env;
    env.record({
      t: env.now(),
      kind: 'event',
      slot: this.slot,
      uuid: this.uuid,
      event: ev.type,
      epoch: ev.epoch,
      lord: ev.lord?.uuid ?? null,
      member: ev.member?.uuid ?? null,
      reason: ev.reason ?? null,
    });
    if (ev.type === 'node-left' && ev.member) env.folder?.forgot(this.slot, ev.member.uuid);
    this.hookRunner.enqueue(ev.type);
  }

  /**
   * The runner's codec: the protocol's wire, handed the broadcast whose copy the transport is
   * reading, so that it is opened once for all receivers.
   */
  private codec(wire: SimWire<unknown>, transport: SimTransport): WireCodec<unknown> {
    const env = this.env;
    const folder = env.folder;
    const fold = env.protocol.fold;
    return {
      encode: (packet, wallMs) => wire.encode(packet, wallMs),
      decode: (bytes, wallMs) => {
        const copy = transport.delivering;
        if (copy === null || copy.bytes !== bytes) throw new Error('a datagram from outside the simulation');
        let packet: unknown;
        try {
          packet = wire.admit(copy, wallMs);
        } catch (e) {
          env.counters.count(`drop:${isLegiondError(e) ? e.code : 'ERR_INTERNAL'}`);
          throw e;
        }
        env.counters.accepted++;
        if (folder !== null && fold !== null)
          folder.delivered(copy.from, fold.sender(packet), this.slot, fold.announced(packet));
        return packet;
      },
    };
  }

  private afterStep(state: S): void {
    this.state = state;
    this.env.counters.steps++;
    this.observe(state);
    if (this.status === 'up' && this.runner?.isStopped) {
      this.status = 'stopped';
      this.env.folder?.stopped(this.slot);
      this.dropLordship();
      this.recordStatus('stopped', 'shutdown');
    }
  }

  private observe(state: S): void {
    const env = this.env;
    const p = env.protocol.probe(state);
    if (p.maxEpoch > this.knownEpoch) this.knownEpoch = p.maxEpoch;
    if (p.lord !== this.lord || (p.lord && p.epoch !== this.lordEpoch)) {
      this.lord = p.lord;
      this.lordEpoch = p.lord ? p.epoch : 0n;
      env.record({
        t: env.now(),
        kind: 'claim',
        slot: this.slot,
        uuid: this.uuid,
        lord: p.lord,
        epoch: this.lordEpoch,
      });
    }
    if (env.trackViews) {
      const lord = env.protocol.machine.view(state, { now: env.now(), rand: () => 0 }).lord?.uuid ?? null;
      if (lord !== this.viewLord) {
        this.viewLord = lord;
        env.record({ t: env.now(), kind: 'view', slot: this.slot, uuid: this.uuid, lord });
      }
    }
  }

  private recordStatus(status: NodeStatus, why: string): void {
    this.env.record({ t: this.env.now(), kind: 'status', slot: this.slot, uuid: this.uuid, status, why });
  }

  private dropLordship(): void {
    if (this.lord) {
      this.lord = false;
      this.lordEpoch = 0n;
      this.env.record({
        t: this.env.now(),
        kind: 'claim',
        slot: this.slot,
        uuid: this.uuid,
        lord: false,
        epoch: 0n,
      });
    }
    if (this.viewLord !== null && this.env.trackViews) {
      this.viewLord = null;
      this.env.record({ t: this.env.now(), kind: 'view', slot: this.slot, uuid: this.uuid, lord: null });
    }
  }

  private hookFinished(event: HookEvent, ok: boolean, ranMs: number): void {
    const now = this.env.now();
    this.env.record({ t: now, kind: 'hook', slot: this.slot, uuid: this.uuid, event, ok, ranMs });
    const stepdownMs = this.hooks.failStepdownMs;
    if (!ok && event === 'lord' && stepdownMs !== null) {
      this.drainUntilMs = now + stepdownMs;
      this.command({ type: 'hook-failed', event: 'lord', stepdownMs });
    }
  }
}
