/**
 * Test helpers for the uWSGI-compatible machine: parameters, peer announces, a stepper for unit
 * tests of the core (Driver: inputs chosen by the test, effects returned, none carried out), and a
 * tiny legion on virtual time (Cluster) whose nodes are the daemon's LegionRunner carrying real
 * encoded packets between them.
 */
import pino from 'pino';
import { MemoryNetwork, VirtualTime } from '../../sim/virtual.js';
import { LegionRunner } from '../../src/daemon/legion-runner.js';
import type { Command, Effect, Input, LegionEvent, LegionParams } from '../../src/legion/types.js';
import { checksumOf } from '../../src/legion/uwsgi/election.js';
import { uwsgiMachine } from '../../src/legion/uwsgi/machine.js';
import type { UwsgiMember, UwsgiState } from '../../src/legion/uwsgi/types.js';
import { type UwsgiAnnounce, UwsgiCodec } from '../../src/protocol/uwsgi/codec.js';
import { seededRand } from '../legion/helpers.js';

export const SELF = '00000000-0000-4000-8000-00000000000a';
export const WALL0 = 1_700_000_000_000;

export function params(over: Partial<LegionParams & { pid: number }> = {}): LegionParams & { pid: number } {
  return {
    legion: 'L',
    uuid: SELF,
    name: 'self',
    valor: 100n,
    quorum: 1,
    intervalMs: 1000,
    toleranceMs: 3000,
    jitter: 0,
    preempt: true,
    preemptDelayMs: 0,
    lordDelayMs: 0,
    scroll: new Uint8Array(0),
    initialEpoch: 0n,
    pid: 77,
    ...over,
  };
}

export function peer(over: Partial<UwsgiAnnounce> & { uuid: string }): UwsgiAnnounce {
  return {
    legion: 'L',
    valor: 50n,
    unix: WALL0 / 1000,
    lord: 0,
    name: `peer-${over.uuid.slice(-2)}`,
    pid: 1,
    checksum: 0n,
    lordValor: 0n,
    lordUuid: '\0'.repeat(36),
    scroll: null,
    dead: false,
    ...over,
  };
}

/** The checksum every node computes once all of `nodes` know each other. */
export function fullChecksum(nodes: Array<{ valor: bigint; uuid: string }>): bigint {
  const [first, ...rest] = nodes;
  const members = rest.map((n) => ({ valor: n.valor, uuid: n.uuid }) as UwsgiMember);
  return checksumOf(first!.valor, first!.uuid, members);
}

/** Steps one machine by hand for unit tests of the core, keeping every effect (carrying none out). */
export class Driver {
  state: UwsgiState;
  now = 0;
  log: Effect<UwsgiAnnounce>[] = [];
  wakeAt = 0;

  constructor(
    p: LegionParams & { pid?: number } = params(),
    public rand: () => number = () => 0.5,
  ) {
    this.state = uwsgiMachine.init(p, { now: 0, rand });
  }

  step(input: Input<UwsgiAnnounce>, at = this.now): Effect<UwsgiAnnounce>[] {
    this.now = at;
    const r = uwsgiMachine.step(this.state, input, { now: at, rand: this.rand });
    this.state = r.state;
    this.wakeAt = r.wakeAt;
    this.log.push(...r.effects);
    return r.effects;
  }

  /** tick at every wakeAt up to `until` (bounded) */
  runUntil(until: number): Effect<UwsgiAnnounce>[] {
    const out: Effect<UwsgiAnnounce>[] = [];
    for (let i = 0; i < 100_000 && this.wakeAt <= until; i++)
      out.push(...this.step({ type: 'tick' }, this.wakeAt));
    this.now = Math.max(this.now, until);
    return out;
  }

  view() {
    return uwsgiMachine.view(this.state, { now: this.now, rand: this.rand });
  }
}

export const eventsOf = (effects: Effect<UwsgiAnnounce>[]): LegionEvent[] =>
  effects.flatMap((e) => (e.type === 'event' ? [e.event] : []));

export const sendsOf = (effects: Effect<UwsgiAnnounce>[]) =>
  effects.flatMap((e) => (e.type === 'send' ? [e] : []));

/** A seeded PRNG (mulberry32) so simulated runs replay exactly. */
export const seeded = seededRand;

export interface ClusterNode {
  /** the node's runner (`view()` as legionctl would see it) */
  driver: LegionRunner<UwsgiState, UwsgiAnnounce>;
  startAt: number;
  started: boolean;
  alive: boolean;
  events: LegionEvent[];
}

const silent = pino({ level: 'silent' });

/**
 * A perfect network: every packet reaches every other live, started node 1 ms later, encoded and
 * decoded by the real codec with a wall clock that follows virtual time. Each node is the
 * daemon's LegionRunner on a virtual scheduler; the hooks answer at once.
 */
export class Cluster {
  readonly nodes: ClusterNode[];
  readonly #time = new VirtualTime();
  readonly #net = new MemoryNetwork(this.#time, 1);
  readonly #codec = new UwsgiCodec({
    legion: 'L',
    cipher: 'aes-128-cbc',
    secret: new TextEncoder().encode('s'),
  });

  constructor(specs: Array<{ p: LegionParams; startAt: number }>, seed: number) {
    const rand = seeded(seed);
    const codec = this.#codec;
    this.nodes = specs.map(({ p, startAt }) => {
      const node: Omit<ClusterNode, 'driver'> = { startAt, started: false, alive: true, events: [] };
      const runs = () => node.alive;
      const driver = new LegionRunner<UwsgiState, UwsgiAnnounce>({
        params: p,
        machine: uwsgiMachine,
        codec: { encode: (a, wall) => codec.encode(a, wall), decode: (b, wall) => codec.decode(b, wall) },
        transport: this.#net.endpoint(() => node.started && node.alive),
        scheduler: this.#time.scheduler({ rand, wallBaseMs: WALL0, running: runs }),
        logger: silent,
        holdTimeoutMs: 1e9,
        sink: {
          onEvent: (e) => node.events.push(e),
          drained: () => Promise.resolve(),
          whenDrained: (done) => done(),
        },
      });
      this.#time.at(startAt, () => {
        if (!node.alive) return;
        node.started = true;
        driver.start();
      });
      return Object.assign(node, { driver });
    });
  }

  get now(): number {
    return this.#time.now;
  }

  command(i: number, command: Command): void {
    const n = this.nodes[i]!;
    if (n.alive) n.driver.command(command);
  }

  crash(i: number): void {
    this.nodes[i]!.alive = false;
  }

  run(until: number): void {
    this.#time.runUntil(until);
  }
}
