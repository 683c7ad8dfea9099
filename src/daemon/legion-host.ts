import type { LegionConfig } from '../config/types.js';
import { LegiondError } from '../errors.js';
import { stopLeftovers } from '../hooks/index.js';
import type { LegionEvent, LegionView, MemberInfo } from '../legion/types.js';
import type { Transport } from '../transport/types.js';
import { openUdpTransport, type UdpTransport, type UdpTransportOptions } from '../transport/udp.js';
import { type EngineSetup, setupEngine } from './engine-setup.js';
import { EpochStore } from './epoch-store.js';
import { createLegionNode, type HookEnv, type LegionNode, type RunningLegion } from './legion-node.js';
import { type Clock, type RunnerLogger, type Scheduler, systemClock } from './legion-runner.js';
import { type LegionWork, type WorkEvent, workStopBoundMs } from './legion-work.js';
import type { Logger } from './logger.js';
import { type Protocol, type SomeProtocol, setupProtocol } from './protocol-setup.js';
import { learningOf, udpOptions } from './udp-options.js';

const text = new TextDecoder();
const bytes = new TextEncoder();

export interface HostOptions {
  config: LegionConfig;
  uuid: string;
  logger: Logger;
  stateDir: string | null;
  /** time and randomness on the system's timers (tests) */
  clock?: Clock;
  /** time, randomness and timers; default the system's (lord-only work then uses croner's own timers) */
  scheduler?: Scheduler;
  /** what lord-only work runs on; default real processes and the bash guard */
  hookEnv?: HookEnv;
  /** after every step of the core, from the runner's own loop (the sd_notify watchdog) */
  onStep?: () => void;
}

export type EventListener = (event: PublicEvent) => void;
export type WorkListener = (event: WorkEvent) => void;

/** An event as legionctl shows it: JSON-safe, names instead of whole member records. */
export interface PublicEvent {
  legion: string;
  type: string;
  epoch: string;
  /** lord-changed: the new lord with its epoch and scroll */
  lord: { uuid: string; name: string; epoch?: string; scroll?: string } | null;
  /** scroll-changed: with the member's new scroll */
  member?: { uuid: string; name: string; scroll?: string };
  reason?: string;
  at: string;
}

/**
 * One configured legion inside the daemon: transport, codec, core runner, hooks and lord-only
 * work, wired together; what the control socket and signals act on.
 */
export class LegionHost {
  /** built by run() */
  private node!: RunningLegion;
  /** the codec for a reloaded config, built before anything changes; `apply` puts it in place */
  private rebuildCodec!: (next: LegionConfig) => Promise<{ apply(): void }>;
  private epochStore: EpochStore | null;
  private readonly listeners = new Set<EventListener>();
  private readonly workListeners = new Set<WorkListener>();
  private left = false;
  /** taken by acquire(), used by run() and reopenTransport() */
  private transport: UdpTransport | null = null;
  private engine: EngineSetup | null = null; // strong mode: the link stands in for the socket
  /** taken by acquire(), used by run() */
  private protocol!: SomeProtocol;
  private initialEpoch = 0n;
  cfg: LegionConfig;

  constructor(private readonly o: HostOptions) {
    this.cfg = o.config;
    this.epochStore = o.stateDir ? new EpochStore(o.stateDir, o.config.name) : null;
  }

  get name(): string {
    return this.cfg.name;
  }

  get hasLeft(): boolean {
    return this.left;
  }

  async start(): Promise<void> {
    await this.acquire();
    this.run();
  }

  /**
   * The part of a start that can fail and runs nothing: reads the epoch and the secrets and binds
   * the UDP socket (exclusive unless multicast). The daemon acquires every legion before it runs
   * any, so no hook runs in a process that then exits because a resource is taken.
   */
  async acquire(): Promise<void> {
    const cfg = this.cfg;
    const clock = this.clock;
    this.initialEpoch = this.epochStore ? await this.epochStore.load() : 0n;
    const log = this.o.logger.child({ legion: cfg.name });
    this.engine = cfg.backend === 'udp' ? null : await setupEngine(cfg, log);
    this.protocol = this.engine?.protocol ?? (await setupProtocol(cfg, () => clock.wall()));
    if (!this.engine) this.transport = await openUdpTransport(await this.udpOptions(cfg, log), log);
    if (this.o.stateDir) {
      // lord-only work a previous life of this daemon left behind (its guard was killed with it,
      // say) must be gone before this life's setup hook; the state_dir lock says it is ours
      const stopped = await stopLeftovers(this.o.stateDir, cfg.name, log, workStopBoundMs(cfg));
      if (stopped > 0) log.warn({ stopped }, 'stopped lord-only work left by a previous run');
    }
  }

  /** after acquire(): builds the core and the hooks and starts them (the `setup` event) */
  run(): void {
    const cfg = this.cfg;
    const log = this.o.logger.child({ legion: cfg.name });
    const transport: Transport | null = this.engine?.link ?? this.transport;
    if (!transport) throw new LegiondError('ERR_INTERNAL', `legion ${cfg.name}: run() before acquire()`);
    const node = this.protocol.use<RunningLegion>((p) => this.build(p, transport, log));
    this.node = node;
    log.info(
      {
        uuid: this.o.uuid,
        valor: String(node.params.valor),
        protocol: cfg.protocol,
        ...(cfg.engine ? { backend: cfg.backend } : { bind: `${cfg.bind.host}:${cfg.bind.port}` }),
      },
      'legion starting',
    );
    node.start();
  }

  private async udpOptions(cfg: LegionConfig, log: Logger): Promise<UdpTransportOptions> {
    return udpOptions(cfg, await learningOf(cfg, this.o.uuid, log));
  }

  /** The node on protocol `p`; a reload rebuilds its codec from the same pairing, so the types stay matched. */
  private build<S, P>(p: Protocol<S, P>, transport: Transport, log: RunnerLogger): LegionNode<S, P> {
    const cfg = this.cfg;
    const node = createLegionNode<S, P>({
      config: cfg,
      uuid: this.o.uuid,
      machine: p.machine,
      codec: p.codec,
      transport,
      initialEpoch: this.initialEpoch,
      logger: log,
      ...(this.o.scheduler ? { scheduler: this.o.scheduler } : {}),
      ...(this.o.clock ? { clock: this.o.clock } : {}),
      stateDir: this.o.stateDir,
      ...(this.o.hookEnv ? { hookEnv: this.o.hookEnv } : {}),
      initParams: (common) => p.initParams(common),
      onEvent: (ev) => this.onEvent(ev),
      onWork: (e) => {
        for (const l of this.workListeners) l(e);
      },
      ...(this.o.onStep ? { onStep: this.o.onStep } : {}),
    });
    let current = p;
    this.rebuildCodec = async (next) => {
      const clock = this.clock;
      const rebuilt = await current.rebuild(next, () => clock.wall());
      return {
        apply: () => {
          node.runner.replaceCodec(rebuilt.codec);
          current = rebuilt;
        },
      };
    };
    return node;
  }

  /** the scheduler's clock, or the one given, or the system's */
  private get clock(): Clock {
    return this.o.scheduler ?? this.o.clock ?? systemClock;
  }

  private get runner(): RunningLegion['runner'] {
    return this.node.runner;
  }

  private get work(): LegionWork {
    return this.node.work;
  }

  private onEvent(ev: LegionEvent): void {
    this.o.logger.info(
      {
        legion: this.cfg.name,
        event: ev.type,
        epoch: String(ev.epoch),
        lord: ev.lord?.name ?? null,
        lordUuid: ev.lord?.uuid ?? null,
        ...(ev.member ? { member: ev.member.name, memberUuid: ev.member.uuid } : {}),
        ...(ev.reason ? { reason: ev.reason } : {}),
      },
      `${ev.type}${ev.member ? ` ${ev.member.name}` : ''} (lord ${ev.lord?.name ?? 'none'}, epoch ${ev.epoch})`,
    );
    if (this.epochStore) {
      this.epochStore
        .save(ev.epoch)
        .catch((e) => this.o.logger.error({ err: e }, 'could not persist the epoch'));
    }
    const pub = publicEvent(this.cfg.name, ev);
    for (const l of this.listeners) l(pub);
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** what this legion's hooks and lord-only work did (the metrics) */
  subscribeWork(listener: WorkListener): () => void {
    this.workListeners.add(listener);
    return () => this.workListeners.delete(listener);
  }

  /** the lord-only daemons' state, for the metrics */
  workStatus() {
    return this.work.workStatus();
  }

  view(): LegionView {
    return this.runner.view();
  }

  /** the epoch of this node's lordship while it claims the title (the one lord-changed names), else null */
  lordshipEpoch(): bigint | null {
    return this.runner.workLease()?.epoch ?? null;
  }

  status() {
    const v = this.runner.view();
    const t = this.runner.transportStats();
    return {
      legion: this.cfg.name,
      protocol: this.cfg.protocol,
      uuid: this.o.uuid,
      name: v.self.name,
      lord: v.lord ? { uuid: v.lord.uuid, name: v.lord.name } : null,
      epoch: String(v.epoch),
      quorum: v.quorum,
      quorumMet: v.quorumMet,
      votes: v.votes,
      baseValor: String(v.baseValor),
      valor: String(v.valor),
      draining: v.draining,
      drainingUntilMs: wallTime(v.drainingUntilMs),
      phase: v.phase,
      members: v.members.length,
      counters: {
        packetsSent: t.packetsSent,
        packetsReceived: t.packetsReceived,
        bytesSent: t.bytesSent,
        bytesReceived: t.bytesReceived,
        accepted: this.runner.counters.accepted,
        rejected: { ...this.runner.counters.rejected },
        ...(t.learning ? { learning: t.learning } : {}),
      },
      checks: this.work.checkStates(),
      ...(this.engine ? { backend: this.cfg.backend, engine: this.engine.link.health() } : {}),
    };
  }

  members() {
    const v = this.runner.view();
    // the core's lastSeenMs is on the runner's monotonic clock
    const now = this.clock.mono();
    return v.members.map((m) => publicMember(m, v.lord?.uuid ?? null, now));
  }

  valor() {
    const v = this.runner.view();
    return { legion: this.cfg.name, baseValor: String(v.baseValor), valor: String(v.valor) };
  }

  setValor(valor: bigint) {
    this.node.setValor(valor);
    return this.valor();
  }

  scroll() {
    return { legion: this.cfg.name, scroll: text.decode(this.runner.view().self.scroll) };
  }

  setScroll(scroll: string) {
    const b = bytes.encode(scroll);
    if (b.length > 1024)
      throw new LegiondError('ERR_INVALID_VALUE', `scroll of ${b.length} bytes exceeds 1024`);
    this.runner.command({ type: 'set-scroll', scroll: b });
    return this.scroll();
  }

  stepdown(forMs: number | null, cancel: boolean) {
    if (cancel) this.runner.command({ type: 'stepdown-cancel' });
    else this.runner.command({ type: 'stepdown', forMs: forMs ?? 60_000 });
    const v = this.runner.view();
    return { legion: this.cfg.name, draining: v.draining, drainingUntilMs: wallTime(v.drainingUntilMs) };
  }

  /**
   * SIGHUP with a changed transport: new peers or multicast on the same bind are set on the open
   * socket; a new bind opens the new socket first and swaps it in; new secrets or codec options
   * rebuild the codec. Everything new is built before anything is swapped, so a failure (thrown,
   * naming the address or the file) leaves the legion as it was. The core, its identity, epoch and
   * lordship stay: no hook runs because of this. `cfg` is left to reconfigure().
   */
  async reopenTransport(next: LegionConfig, what: { socket: boolean; codec: boolean }): Promise<void> {
    if (this.engine) return; // strong mode has no socket or codec (config refuses those keys)
    const log = this.o.logger.child({ legion: next.name });
    const transport = this.transport;
    if (!transport || !this.node)
      throw new LegiondError('ERR_INTERNAL', `legion ${next.name} is not running`);
    if (next.protocol !== this.cfg.protocol)
      throw new LegiondError(
        'ERR_CONFIG',
        `legion ${next.name}: the protocol cannot change under a running core`,
      );
    const codec = what.codec ? await this.rebuildCodec(next) : null;
    let fresh: UdpTransport | null = null;
    // new secrets also re-key the peer hints
    if (what.socket || what.codec) {
      const opts = await this.udpOptions(next, log);
      const old = this.cfg.bind;
      if (next.bind.host === old.host && next.bind.port === old.port) await transport.retarget(opts);
      else fresh = await openUdpTransport(opts, log);
    }
    codec?.apply();
    if (fresh) {
      this.transport = fresh;
      await this.runner.replaceTransport(fresh);
    }
  }

  /** SIGHUP: apply what can change without a new identity */
  reconfigure(cfg: LegionConfig): void {
    this.cfg = cfg;
    const changed = this.node.reconfigure(cfg);
    if (changed.length > 0)
      this.o.logger.info({ legion: cfg.name, changed }, 'SIGHUP: lord-only work replaced');
  }

  /** clean departure (shutdown or `legionctl leave`), bounded by the hold timeout */
  async leave(): Promise<void> {
    if (this.left) return;
    this.left = true;
    await this.node.leave();
    await this.close();
  }

  async close(): Promise<void> {
    this.left = true;
    // acquired but never run: only the socket to give back
    if (!this.node) return void (await (this.engine?.link ?? this.transport)?.close());
    await this.node.close();
  }
}

/** the core keeps monotonic deadlines; operators want a wall-clock time */
function wallTime(monoMs: number | null): number | null {
  return monoMs === null ? null : Math.round(Date.now() + (monoMs - performance.now()));
}

function publicMember(m: MemberInfo, lordUuid: string | null, now: number) {
  return {
    uuid: m.uuid,
    name: m.name,
    valor: String(m.valor),
    lord: m.uuid === lordUuid,
    arbiter: m.arbiter,
    observer: m.observer,
    draining: m.draining,
    self: m.self,
    lastSeenMs: m.self ? 0 : Math.max(0, Math.round(now - m.lastSeenMs)),
    scroll: text.decode(m.scroll),
  };
}

/** Scrolls are decoded as UTF-8, as `members --json` shows them. */
export function publicEvent(legion: string, ev: LegionEvent): PublicEvent {
  const lord = ev.lord ? { uuid: ev.lord.uuid, name: ev.lord.name } : null;
  const member = ev.member ? { uuid: ev.member.uuid, name: ev.member.name } : undefined;
  return {
    legion,
    type: ev.type,
    epoch: String(ev.epoch),
    lord:
      ev.type === 'lord-changed' && lord !== null && ev.lord
        ? { ...lord, epoch: String(ev.epoch), scroll: text.decode(ev.lord.scroll) }
        : lord,
    ...(member && ev.member
      ? {
          member:
            ev.type === 'scroll-changed' ? { ...member, scroll: text.decode(ev.member.scroll) } : member,
        }
      : {}),
    ...(ev.reason ? { reason: ev.reason } : {}),
    at: new Date().toISOString(),
  };
}
