/**
 * Test helpers for the uWSGI-compatible machine: parameters, peer announces, and a tiny
 * in-memory network in virtual time that carries real encoded packets between machines.
 */
import type { Command, Effect, Input, LegionEvent, LegionParams } from '../../src/legion/types.js';
import { checksumOf } from '../../src/legion/uwsgi-election.js';
import { uwsgiMachine } from '../../src/legion/uwsgi-machine.js';
import type { UwsgiMember, UwsgiState } from '../../src/legion/uwsgi-types.js';
import { type UwsgiAnnounce, UwsgiCodec } from '../../src/protocol/uwsgi.js';
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

/** Drives one machine by hand, keeping every effect. */
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

interface SimNode {
  driver: Driver;
  startAt: number;
  started: boolean;
  alive: boolean;
  events: LegionEvent[];
}

/**
 * A perfect network: every packet reaches every other live node 1 ms later, encoded and decoded
 * by the real codec with a wall clock that follows virtual time.
 */
export class Cluster {
  readonly nodes: SimNode[];
  now = 0;
  #queue: Array<{ at: number; to: SimNode; bytes: Uint8Array }> = [];
  readonly #codec = new UwsgiCodec({
    legion: 'L',
    cipher: 'aes-128-cbc',
    secret: new TextEncoder().encode('s'),
  });

  constructor(specs: Array<{ p: LegionParams; startAt: number }>, seed: number) {
    const rand = seeded(seed);
    this.nodes = specs.map(({ p, startAt }) => ({
      driver: new Driver(p, rand),
      startAt,
      started: false,
      alive: true,
      events: [],
    }));
  }

  command(i: number, command: Command): void {
    this.#apply(this.nodes[i]!, { type: 'command', command });
  }

  crash(i: number): void {
    this.nodes[i]!.alive = false;
  }

  run(until: number): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      const live = this.nodes.filter((n) => n.alive);
      const times = [
        ...this.#queue.map((q) => q.at),
        ...live.map((n) => (n.started ? n.driver.wakeAt : n.startAt)),
      ];
      const next = Math.min(...times);
      if (!(next <= until)) break;
      this.now = next;
      const due = this.#queue.filter((q) => q.at <= next);
      this.#queue = this.#queue.filter((q) => q.at > next);
      for (const q of due) {
        if (q.to.alive && q.to.started)
          this.#apply(q.to, { type: 'packet', packet: this.#codec.decode(q.bytes, WALL0 + next) });
      }
      for (const n of live) {
        if (!n.started && n.startAt <= next) {
          n.started = true;
          this.#apply(n, { type: 'start' });
        } else if (n.started && n.driver.wakeAt <= next) {
          this.#apply(n, { type: 'tick' });
        }
      }
    }
    this.now = until;
  }

  #apply(n: SimNode, input: Input<UwsgiAnnounce>): void {
    for (const e of n.driver.step(input, this.now)) {
      if (e.type === 'event') n.events.push(e.event);
      if (e.type === 'send') {
        const bytes = this.#codec.encode(e.packet, WALL0 + this.now);
        for (const to of this.nodes)
          if (to !== n && to.alive) this.#queue.push({ at: this.now + 1, to, bytes });
      }
    }
  }
}
