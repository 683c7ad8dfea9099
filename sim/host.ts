/**
 * The sim shell around one node slot: what the daemon's LegionRunner does for a real process
 * (ticks at wakeAt, the real codec on both ends, serial hooks, `await-hooks` answered when the
 * hook queue is empty or the hold timeout passes), on virtual time. A slot keeps its name and
 * network position across restarts; each incarnation gets a new UUID.
 */
import { isLegiondError } from '../src/errors.js';
import type { Command, Effect, HookEvent, Input, Machine } from '../src/legion/types.js';
import { type Decoded, type KeyRing, NativeDecoder, NativeEncoder } from '../src/protocol/native.js';
import type { Announce } from '../src/protocol/types.js';
import type { SimEvent } from './events.js';
import type { HeartbeatFolder } from './heartbeats.js';
import { SimHooks } from './hooks.js';
import type { Prng } from './prng.js';
import type { HookSpec, NodeSpec, Scenario } from './scenario-types.js';
import type { NodeStatus, TraceRecord } from './trace.js';

/** Reads lordship straight from a core state; cheaper than building a full view after every step. */
export type LordProbe<S> = (state: S) => { lord: boolean; epoch: bigint; maxEpoch: bigint };

export interface HostEnv<S> {
  readonly scenario: Scenario;
  readonly machine: Machine<S, Announce>;
  readonly probe: LordProbe<S>;
  readonly rng: Prng;
  readonly keys: KeyRing | null;
  readonly wallBaseMs: number;
  /** compute whom each node considers lord after every step (costs a view per step) */
  readonly trackViews: boolean;
  now(): number;
  schedule(at: number, ev: SimEvent): void;
  broadcast(from: number, bytes: Uint8Array, only?: (to: number) => boolean): void;
  /** set when heartbeats are folded: who needs what in full, and when each was heard */
  readonly folder: HeartbeatFolder | null;
  /** the core's bulk heartbeat refresh (src/legion/heard.ts); needed when heartbeats are folded */
  readonly noteHeard?:
    | ((state: S, heardAt: (uuid: string, index: number) => number, now: number) => number)
    | undefined;
  /** when the next refresh is due after a step on a packet (src/legion/heard.ts, heardDueAfter) */
  readonly heardDueAfter?: ((state: S, due: number, packet: Announce, now: number) => number) | undefined;
  /** authenticates and parses a broadcast, once for all its receivers (see Simulation.open) */
  open(copy: Copy): Decoded;
  /** the opener's copy of a UUID, which packets naming it will carry (NativeDecoder.shared) */
  shared(uuid: string): string;
  record(r: TraceRecord): void;
  count(what: string, n?: number): void;
  log?(slot: number, e: Extract<Effect, { type: 'log' }>): void;
}

/** a copy of a broadcast: the broadcast itself, which holds its sender and bytes */
export type Copy = Extract<SimEvent, { k: 'fanout' }>;

type Pending = { kind: 'input'; input: Input } | { kind: 'copy'; copy: Copy };

export class SimNode<S> {
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
  private state: S | null = null;
  private encoder: NativeEncoder | null = null;
  private decoder: NativeDecoder | null = null;
  /** when the core wants its next tick */
  private tickAt = Number.POSITIVE_INFINITY;
  /** when the one live tick event in the queue fires; a later tickAt re-queues from there */
  private queuedAt = Number.POSITIVE_INFINITY;
  private tickGen = 0;
  private readonly inbox: Pending[] = [];
  private readonly microtasks: Input[] = [];
  private hookRunner: SimHooks = this.newHooks();
  private stepping = false;
  /** with folded heartbeats: the core's table must take them in before a step at or after this */
  private heardDue = Number.NEGATIVE_INFINITY;
  /** set while a resumed node runs its overdue timer, which comes before the packets it missed */
  private deaf = false;
  private readonly rand: () => number;

  constructor(
    readonly slot: number,
    readonly name: string,
    spec: NodeSpec,
    private readonly env: HostEnv<S>,
  ) {
    this.valor = spec.valor;
    this.hooks = { ...spec.hooks, fail: [...spec.hooks.fail] };
    this.rand = () => env.rng.float();
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

  private wall(): number {
    return this.env.wallBaseMs + this.env.now() + this.skewMs;
  }

  /** A new process on this slot: new identity, new codec state, epoch from the "state directory". */
  start(): void {
    const env = this.env;
    const sc = env.scenario;
    this.inc++;
    // the copy packets will carry: votes for this node and the folder's checks compare references
    this.uuid = env.shared(env.rng.uuid());
    this.status = 'up';
    this.lord = false;
    this.lordEpoch = 0n;
    this.viewLord = null;
    this.inbox.length = 0;
    this.microtasks.length = 0;
    this.hookRunner = this.newHooks();
    const noncePrefix = new Uint8Array(4);
    new DataView(noncePrefix.buffer).setUint32(0, env.rng.u32());
    this.encoder = new NativeEncoder({
      legion: sc.name,
      keys: env.keys,
      wallClock: () => this.wall(),
      noncePrefix,
    });
    this.decoder = new NativeDecoder({ legion: sc.name, keys: env.keys, replayWindowMs: sc.replayWindowMs });
    this.heardDue = Number.NEGATIVE_INFINITY;
    env.folder?.started(this.slot, this.uuid);
    const initialEpoch = sc.persistEpoch ? this.knownEpoch : 0n;
    const t = sc.timing;
    this.state = env.machine.init(
      {
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
      },
      { now: env.now(), rand: this.rand },
    );
    env.record({
      t: env.now(),
      kind: 'start',
      slot: this.slot,
      uuid: this.uuid,
      valor: this.valor,
      epoch: initialEpoch,
    });
    this.input({ type: 'start' });
  }

  /** The process dies: no death announce, hooks killed, state gone. */
  crash(why: string): void {
    if (!this.alive) return;
    this.inc++;
    this.disarm();
    this.status = 'down';
    this.env.folder?.stopped(this.slot);
    this.dropLordship();
    this.env.record({
      t: this.env.now(),
      kind: 'status',
      slot: this.slot,
      uuid: this.uuid,
      status: 'down',
      why,
    });
  }

  pause(): void {
    if (this.status !== 'up') return;
    this.status = 'paused';
    this.env.record({
      t: this.env.now(),
      kind: 'status',
      slot: this.slot,
      uuid: this.uuid,
      status: 'paused',
      why: 'pause',
    });
  }

  /** As in Node after SIGCONT: the expired timer runs before the socket is read. */
  resume(): void {
    if (this.status !== 'paused') return;
    this.status = 'up';
    this.env.record({
      t: this.env.now(),
      kind: 'status',
      slot: this.slot,
      uuid: this.uuid,
      status: 'up',
      why: 'resume',
    });
    if (this.tickAt <= this.env.now()) {
      this.disarm();
      this.deaf = true;
      try {
        this.input({ type: 'tick' });
      } finally {
        this.deaf = false;
      }
    }
    while (this.inbox.length > 0 && this.status === 'up') {
      const p = this.inbox.shift()!;
      if (p.kind === 'copy') this.receive(p.copy);
      else this.input(p.input);
    }
  }

  command(command: Command): void {
    this.input({ type: 'command', command });
  }

  onTick(gen: number): void {
    if (gen !== this.tickGen) return;
    this.queuedAt = Number.POSITIVE_INFINITY;
    if (this.tickAt > this.env.now()) {
      if (Number.isFinite(this.tickAt)) this.queueTick(this.tickAt);
      return;
    }
    if (this.status === 'paused') return; // stays due; resume() fires it first
    this.tickAt = Number.POSITIVE_INFINITY;
    this.input({ type: 'tick' });
  }

  /** A copy of a broadcast arrives. */
  receive(copy: Copy): void {
    if (this.status === 'paused') {
      this.inbox.push({ kind: 'copy', copy });
      return;
    }
    if (this.status !== 'up') return;
    const env = this.env;
    const from = copy.from;
    let packet: Announce;
    try {
      packet = this.decoder!.admit(env.open(copy), this.wall()).announce;
    } catch (e) {
      env.count(`drop:${isLegiondError(e) ? e.code : 'ERR_INTERNAL'}`);
      if (!isLegiondError(e)) throw e;
      return;
    }
    env.count('accepted');
    env.folder?.delivered(from, packet.uuid, this.slot, packet);
    this.input({ type: 'packet', packet });
  }

  /** A later copy of a repeated announce: it goes out even after `stopped`, as the runner flushes them. */
  sendCopy(inc: number, packet: Announce): void {
    if (inc === this.inc && this.status !== 'down') this.encodeAndSend(packet);
  }

  onHookDone(inc: number): void {
    if (inc === this.inc) this.hookRunner.onDone();
  }

  onHoldTimeout(inc: number, token: number): void {
    if (inc === this.inc) this.hookRunner.onHoldTimeout(token);
  }

  /** Hooks belong to one incarnation: a crash kills them, their timers die with `inc`. */
  private newHooks(): SimHooks {
    const inc = this.inc;
    const env = this.env;
    return new SimHooks(() => this.hooks, {
      now: () => env.now(),
      timer: (at, what) =>
        env.schedule(
          at,
          what.k === 'hook-done'
            ? { k: 'hook-done', slot: this.slot, inc }
            : { k: 'hold-timeout', slot: this.slot, inc, token: what.token },
        ),
      finished: (event, ok, ranMs) => this.hookFinished(event, ok, ranMs),
      drained: (timedOut) => {
        if (timedOut) {
          env.record({
            t: env.now(),
            kind: 'note',
            slot: this.slot,
            text: 'hooks still running at hold timeout',
          });
        }
        this.input({ type: 'hooks-drained' });
      },
    });
  }

  /** Feeds one input, then whatever it provoked (hooks-drained, hook-failed), microtask-style. */
  private input(input: Input): void {
    if (this.status === 'paused') {
      this.inbox.push({ kind: 'input', input });
      return;
    }
    if (this.status !== 'up') return;
    this.microtasks.push(input);
    if (this.stepping) return;
    this.stepping = true;
    try {
      while (this.microtasks.length > 0 && this.status === 'up') this.stepOnce(this.microtasks.shift()!);
    } finally {
      this.stepping = false;
    }
  }

  /**
   * With folded heartbeats: hands the core the heartbeats heard since the last time, when it may
   * need them (src/legion/heard.ts says until when it does not).
   */
  refreshHeard(): void {
    const env = this.env;
    const folder = env.folder;
    if (folder === null || this.state === null || this.status !== 'up' || env.noteHeard === undefined) return;
    const now = env.now();
    this.heardDue = env.noteHeard(this.state, folder.heardBy(this.slot, now), now);
    env.count('heard-refresh');
  }

  private stepOnce(input: Input): void {
    const env = this.env;
    const now = env.now();
    if (env.folder !== null && !this.deaf && now >= this.heardDue) this.refreshHeard();
    const res = env.machine.step(this.state as S, input, { now, rand: this.rand });
    this.state = res.state;
    if (input.type === 'packet' && env.folder !== null && env.heardDueAfter !== undefined)
      this.heardDue = env.heardDueAfter(res.state, this.heardDue, input.packet, now);
    env.count('steps');
    let stopped = false;
    for (const e of res.effects) {
      switch (e.type) {
        case 'send':
          this.encodeAndSend(e.packet);
          for (let i = 1; i < (e.repeat ?? 1); i++) {
            env.schedule(now + i * env.scenario.repeatSpacingMs, {
              k: 'send',
              slot: this.slot,
              inc: this.inc,
              packet: e.packet,
            });
          }
          break;
        case 'event': {
          const ev = e.event;
          env.record({
            t: now,
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
          break;
        }
        case 'log':
          env.count(`log:${e.level}`);
          env.log?.(this.slot, e);
          break;
        case 'await-hooks':
          if (this.hookRunner.await()) this.microtasks.push({ type: 'hooks-drained' });
          break;
        case 'stopped':
          stopped = true;
          break;
      }
    }
    this.observe();
    if (stopped) {
      this.status = 'stopped';
      this.disarm();
      env.folder?.stopped(this.slot);
      this.dropLordship();
      env.record({
        t: now,
        kind: 'status',
        slot: this.slot,
        uuid: this.uuid,
        status: 'stopped',
        why: 'shutdown',
      });
      return;
    }
    this.arm(res.wakeAt);
  }

  /**
   * Same rule as the daemon's runner: at least 1 ms ahead, whole milliseconds. Most steps move
   * the wake-up later; rather than queueing an event per step, the queued one re-queues itself.
   */
  private arm(wakeAt: number): void {
    if (!Number.isFinite(wakeAt)) {
      this.disarm();
      return;
    }
    const now = this.env.now();
    const at = now + Math.max(1, Math.ceil(wakeAt - now));
    this.tickAt = at;
    if (at < this.queuedAt) this.queueTick(at);
  }

  private queueTick(at: number): void {
    this.queuedAt = at;
    this.env.schedule(at, { k: 'tick', slot: this.slot, gen: ++this.tickGen });
  }

  private disarm(): void {
    this.tickGen++;
    this.tickAt = Number.POSITIVE_INFINITY;
    this.queuedAt = Number.POSITIVE_INFINITY;
  }

  private encodeAndSend(packet: Announce): void {
    const folder = this.env.folder;
    let only: ((to: number) => boolean) | undefined;
    if (folder !== null) {
      if (folder.isHeartbeat(this.slot, packet)) {
        const env = this.env;
        env.count('folded');
        folder.beat(this.slot, env.now());
        // across a partition, those who dropped this node cannot get it: no packet to build
        if (!folder.anyReachable(this.slot)) return;
        // receivers that missed the news still get it, as they would from any later announce
        only = (to) => folder.needsFull(this.slot, to);
      } else {
        folder.news(this.slot, packet);
      }
    }
    let bytes: Uint8Array;
    try {
      bytes = this.encoder!.encode(packet);
    } catch (e) {
      this.env.count(`encode-error:${isLegiondError(e) ? e.code : 'ERR_INTERNAL'}`);
      this.env.record({
        t: this.env.now(),
        kind: 'note',
        slot: this.slot,
        text: `encode failed: ${(e as Error).message}`,
      });
      return;
    }
    this.env.count('sent');
    this.env.broadcast(this.slot, bytes, only);
  }

  private observe(): void {
    const env = this.env;
    const p = env.probe(this.state as S);
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
      const lord = env.machine.view(this.state as S, { now: env.now(), rand: () => 0 }).lord?.uuid ?? null;
      if (lord !== this.viewLord) {
        this.viewLord = lord;
        env.record({ t: env.now(), kind: 'view', slot: this.slot, uuid: this.uuid, lord });
      }
    }
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
      this.input({ type: 'command', command: { type: 'hook-failed', event: 'lord', stepdownMs } });
    }
  }
}
