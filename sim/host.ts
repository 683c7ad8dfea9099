/**
 * One node slot of the simulation: the daemon's own wiring of a legion (src/daemon/legion-node.ts:
 * LegionRunner and LegionWork, as LegionHost runs them) on simulated ends: sim/process.ts (clock
 * and timers on the event queue, a socket on the simulated network, the real codecs) and
 * sim/spawner.ts (virtual processes and guards for the hooks, cron runs and attached daemons).
 * A slot keeps its name, network position and host (with the processes on it) across restarts;
 * each incarnation of legiond gets a new UUID, a new runner, new codec state and new hook code.
 *
 * Around legiond the slot plays the process and its host. A crash kills legiond: state, timers
 * and hook code go; its processes live on (hooks to their end, guarded work until the guards
 * read EOF), unless the whole host goes down with it. A pause stops legiond alone: timers that
 * come due wait, datagrams and process exits queue; on resume the due timers run first, then the
 * rest in arrival order, as in Node after SIGCONT; its processes and guards run on meanwhile. A
 * freeze stops the whole host: legiond, processes and guards; on thaw the host's overdue timers
 * (the guards' kills) come first, then legiond resumes.
 */
import { isDeepStrictEqual } from 'node:util';
import type { LegionConfig } from '../src/config/types.js';
import { createLegionNode, type LegionNode } from '../src/daemon/legion-node.js';
import type { Command } from '../src/legion/types.js';
import type { HostTimerEvent, TimerEvent } from './events.js';
import { dropLordship, type HostEnv, observeLordship, recordEvent, simCodec } from './node-record.js';
import { FoldingTransport, NodeScheduler, type ProcessSlot, SimLogger, SimTransport } from './process.js';
import type { Copy } from './protocol.js';
import type { CronSpec, DaemonSpec, HookSpec, NodeSpec } from './scenario-types.js';
import { type LegiondSide, VirtualHost } from './spawner.js';
import type { NodeStatus } from './trace.js';
import { behaviour, legionConfig } from './work.js';

export type { HostEnv } from './node-record.js';
export type { Copy, LordProbe } from './protocol.js';

/** what a paused legiond finds waiting when it resumes: datagrams, and calls into it */
type Waiting = Copy | (() => void);

type Legion<S> = LegionNode<S, unknown>;

/** the part of a config a `hooks` action can change; a change is applied as a SIGHUP */
function hookConfig(c: LegionConfig) {
  return [c.hooks, c.hookTimeoutMs, c.holdTimeoutMs, c.lordHookFailure];
}

export class SimNode<S> implements ProcessSlot {
  status: NodeStatus = 'down';
  uuid = '';
  /** bumped at every start and crash: events of a former incarnation are void */
  inc = 0;
  valor: bigint;
  hooks: HookSpec;
  readonly daemons: DaemonSpec[];
  readonly cron: CronSpec[];
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
  /** the whole host is frozen: legiond, its processes and their guards */
  frozen = false;
  /** the processes of this host, across legiond's incarnations */
  readonly host: VirtualHost;
  private legion: Legion<S> | null = null;
  /** the current legiond finished its clean departure and exited */
  private exited = false;
  private transport: SimTransport | null = null;
  /** the core's state after its last step, for observers */
  private state: S | null = null;
  private readonly dueTimers: TimerEvent[] = [];
  private readonly inbox: Waiting[] = [];
  /** the host's timers that came due while it was frozen */
  private readonly frozenDue: HostTimerEvent[] = [];

  constructor(
    readonly slot: number,
    readonly name: string,
    spec: NodeSpec,
    private readonly env: HostEnv<S>,
  ) {
    this.valor = spec.valor;
    this.hooks = { ...spec.hooks, fail: [...spec.hooks.fail] };
    this.daemons = spec.daemons.map((d) => ({ ...d }));
    this.cron = spec.cron.map((c) => ({ ...c }));
    this.host = new VirtualHost(
      {
        slot,
        now: () => env.now(),
        setTimer: (fn, ms) => {
          const ev: HostTimerEvent = { k: 'host', slot, fn, live: true };
          env.schedule(env.now() + ms, ev);
          return ev;
        },
        clearTimer: (ev) => {
          ev.live = false;
        },
        record: (r) => env.record(r),
        behaviour: (cmd, penv) => behaviour(this, cmd, penv),
      },
      env.processes,
    );
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

  /** A new legiond on this slot: new identity, new codec state, epoch from the "state directory". */
  start(): void {
    const env = this.env;
    const sc = env.scenario;
    const proto = env.protocol;
    // a legiond still finishing its departure is gone now
    if (this.status === 'stopped' && !this.exited) this.host.legiondGone(this.inc);
    this.inc++;
    const inc = this.inc;
    // native: the opener's copy, which packets will carry (votes and the folder compare references)
    this.uuid = proto.identity(env.rng.uuid());
    this.status = 'up';
    this.exited = false;
    this.lord = false;
    this.lordEpoch = 0n;
    this.viewLord = null;
    this.deaf = false;
    this.inbox.length = 0;
    this.dueTimers.length = 0;
    const scheduler = new NodeScheduler(env, this, inc);
    const wire = proto.wire(env.rng, scheduler.wall);
    const folder = env.folder;
    const transport =
      folder !== null && proto.fold !== null
        ? new FoldingTransport(env, this, folder, proto.fold)
        : new SimTransport(env, this);
    this.transport = transport;
    folder?.started(this.slot, this.uuid);
    const initialEpoch = sc.persistEpoch ? this.knownEpoch : 0n;
    const legiond: LegiondSide = {
      inc,
      uuid: this.uuid,
      scheduler,
      deliver: (fn) => this.toLegiond(inc, fn),
    };
    const processes = this.host.spawner(legiond);
    this.legion = createLegionNode<S, unknown>({
      config: legionConfig(sc, this.slot, this),
      uuid: this.uuid,
      machine: proto.machine,
      codec: simCodec(env, this.slot, wire, transport),
      transport,
      initialEpoch,
      logger: new SimLogger(env, this.slot),
      scheduler,
      stateDir: null,
      hookEnv: { spawner: processes, guarded: processes },
      initParams: (common) => proto.initParams(this.slot, common),
      onEvent: (ev) => recordEvent(env, this, ev),
      onHoldTimeout: () =>
        env.record({
          t: env.now(),
          kind: 'note',
          slot: this.slot,
          text: 'hooks still running at hold timeout',
        }),
      onLordHookFailed: (stepdownMs) => {
        this.drainUntilMs = env.now() + stepdownMs;
      },
      onStep: (state) => this.afterStep(state),
      repeatSpacingMs: sc.repeatSpacingMs,
    });
    env.record({
      t: env.now(),
      kind: 'start',
      slot: this.slot,
      uuid: this.uuid,
      valor: this.valor,
      epoch: initialEpoch,
    });
    this.legion.start();
  }

  /**
   * legiond dies: no death announce, state and timers gone. Its processes live on: hooks until
   * they end, guarded work until the guard's EOF rule ends it. `host`: the host goes down too.
   */
  crash(why: string, host = false): void {
    if (!this.alive) return;
    const inc = this.inc;
    this.inc++;
    this.status = 'down';
    this.legion = null;
    void this.transport?.close();
    this.env.folder?.stopped(this.slot);
    dropLordship(this.env, this);
    this.recordStatus('down', why);
    if (host) {
      this.frozen = false;
      this.frozenDue.length = 0;
      this.host.killAll();
    } else {
      this.host.legiondGone(inc);
    }
  }

  /** SIGSTOP of legiond alone */
  pause(): void {
    if (this.status !== 'up') return;
    this.status = 'paused';
    this.recordStatus('paused', 'pause');
  }

  /** As in Node after SIGCONT: the expired timers run before the socket is read. */
  resume(why = 'resume'): void {
    if (this.status !== 'paused' || this.frozen) return;
    this.status = 'up';
    this.recordStatus('up', why);
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

  /** the whole host stops (a VM pause): legiond, its processes and their guards */
  freeze(): void {
    if (this.status !== 'up') return;
    this.frozen = true;
    this.status = 'paused';
    this.recordStatus('paused', 'freeze');
  }

  /** the host runs again: its overdue timers first (a guard past its fence kills), then legiond */
  thaw(): void {
    if (!this.frozen) return;
    this.frozen = false;
    for (const ev of this.frozenDue.splice(0)) this.fireHost(ev);
    this.resume('thaw');
  }

  command(command: Command): void {
    this.inLegiond((legion) => legion.runner.command(command));
  }

  /** `legionctl valor set` */
  setValor(valor: bigint): void {
    this.valor = valor;
    this.inLegiond((legion) => legion.setValor(valor));
  }

  /**
   * SIGTERM: the workload stops, then the core's departure (unlord hooks, death announce, death
   * hooks), then legiond exits, as LegionHost.leave() does. Without lord-only work in the run,
   * where leave() comes to the core's shutdown command alone, the command is sent directly.
   */
  shutdown(): void {
    if (!this.env.lordWork) {
      this.command({ type: 'shutdown' });
      return;
    }
    const inc = this.inc;
    this.inLegiond((legion) => {
      legion
        .leave()
        .then(() => legion.close())
        .then(
          () => this.legiondExited(inc),
          (e: unknown) => this.env.fail?.(e),
        );
    });
  }

  /** a `hooks` action: how hooks behave from now on; what the config says is applied as a SIGHUP */
  setHooks(patch: Partial<HookSpec>): void {
    const before = legionConfig(this.env.scenario, this.slot, this);
    Object.assign(this.hooks, patch);
    const after = legionConfig(this.env.scenario, this.slot, this);
    if (!isDeepStrictEqual(hookConfig(before), hookConfig(after)))
      this.inLegiond((legion) => legion.reconfigure(after));
  }

  /** A timer of this slot's legiond came due. */
  onTimer(ev: TimerEvent): void {
    if (ev.inc !== this.inc || this.status === 'down') return;
    if (this.status === 'paused') this.dueTimers.push(ev);
    else this.fire(ev);
  }

  /** A timer of this slot's host (its processes, their guards) came due. */
  onHostTimer(ev: HostTimerEvent): void {
    if (!ev.live) return;
    if (this.frozen) this.frozenDue.push(ev);
    else this.fireHost(ev);
  }

  /** A copy of a broadcast arrives. */
  receive(copy: Copy): void {
    if (this.status === 'up') this.transport!.deliver(copy);
    else if (this.status === 'paused') this.inbox.push(copy);
  }

  /**
   * With folded heartbeats: hands the core the heartbeats heard so far, now (the simulation
   * calls it before links change, which must not apply to heartbeats already heard).
   */
  refreshHeard(): void {
    if (this.status === 'up') this.legion?.runner.refreshHeard();
  }

  private fire(ev: TimerEvent): void {
    if (!ev.live) return;
    ev.live = false;
    ev.fn();
  }

  private fireHost(ev: HostTimerEvent): void {
    if (!ev.live) return;
    ev.live = false;
    ev.fn();
  }

  /** runs `fn` in the current legiond: now, on resume when it is paused, not at all when it is gone */
  private inLegiond(fn: (legion: Legion<S>) => void): void {
    const legion = this.legion;
    if (legion === null) return;
    if (this.status === 'paused') this.inbox.push(() => fn(legion));
    else if (this.status === 'up') fn(legion);
  }

  /** a call from outside (a process's exit) into legiond `inc`, if that one still runs */
  private toLegiond(inc: number, fn: () => void): void {
    if (inc !== this.inc || this.status === 'down' || this.exited) return;
    if (this.status === 'paused') this.inbox.push(fn);
    else fn();
  }

  private legiondExited(inc: number): void {
    if (inc !== this.inc || this.exited) return;
    this.exited = true;
    this.host.legiondGone(inc);
  }

  private afterStep(state: S): void {
    this.state = state;
    this.env.counters.steps++;
    observeLordship(this.env, this, state);
    if (this.status === 'up' && this.legion?.runner.isStopped) {
      this.status = 'stopped';
      this.env.folder?.stopped(this.slot);
      dropLordship(this.env, this);
      this.recordStatus('stopped', 'shutdown');
    }
  }

  private recordStatus(status: NodeStatus, why: string): void {
    this.env.record({ t: this.env.now(), kind: 'status', slot: this.slot, uuid: this.uuid, status, why });
  }
}
