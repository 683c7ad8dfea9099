/**
 * What a node slot shows the rest of the simulation of its legiond: the packets it accepts (the
 * run's counters, the heartbeat folder), the events its core emits, and the lordship it claims
 * and sees, each as trace records. SimNode (host.ts) calls these; they keep no state of their own.
 */
import type { WireCodec } from '../src/daemon/wire.js';
import { isLegiondError } from '../src/errors.js';
import type { LegionEvent } from '../src/legion/types.js';
import type { ProcessEnv, SimTransport } from './process.js';
import type { SimProtocol, SimWire } from './protocol.js';
import type { Scenario } from './scenario-types.js';
import type { VirtualOptions } from './spawner.js';

export interface HostEnv<S> extends ProcessEnv {
  readonly scenario: Scenario;
  readonly protocol: SimProtocol<S, unknown>;
  /** compute whom each node considers lord after every step (costs a view per step) */
  readonly trackViews: boolean;
  /** the run has lord-only work: promises settle between events (Simulation.runAsync) */
  readonly lordWork: boolean;
  readonly processes: VirtualOptions;
}

/** The lordship fields of a slot that the records keep current. */
export interface LordshipSeen {
  readonly slot: number;
  readonly uuid: string;
  lord: boolean;
  lordEpoch: bigint;
  /** highest epoch this slot ever knew */
  knownEpoch: bigint;
  viewLord: string | null;
}

/**
 * The runner's codec: the protocol's wire, handed the broadcast whose copy the transport is
 * reading, so that it is opened once for all receivers.
 */
export function simCodec<S>(
  env: HostEnv<S>,
  slot: number,
  wire: SimWire<unknown>,
  transport: SimTransport,
): WireCodec<unknown> {
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
        folder.delivered(copy.from, fold.sender(packet), slot, fold.announced(packet));
      return packet;
    },
  };
}

export function recordEvent<S>(env: HostEnv<S>, node: LordshipSeen, ev: LegionEvent): void {
  env.record({
    t: env.now(),
    kind: 'event',
    slot: node.slot,
    uuid: node.uuid,
    event: ev.type,
    epoch: ev.epoch,
    lord: ev.lord?.uuid ?? null,
    member: ev.member?.uuid ?? null,
    reason: ev.reason ?? null,
  });
  if (ev.type === 'node-left' && ev.member) env.folder?.forgot(node.slot, ev.member.uuid);
}

/** After a step: a change of the claim the node puts on the wire, and (tracked) of whom it sees as lord. */
export function observeLordship<S>(env: HostEnv<S>, node: LordshipSeen, state: S): void {
  const p = env.protocol.probe(state);
  if (p.maxEpoch > node.knownEpoch) node.knownEpoch = p.maxEpoch;
  if (p.lord !== node.lord || (p.lord && p.epoch !== node.lordEpoch)) {
    node.lord = p.lord;
    node.lordEpoch = p.lord ? p.epoch : 0n;
    env.record({
      t: env.now(),
      kind: 'claim',
      slot: node.slot,
      uuid: node.uuid,
      lord: p.lord,
      epoch: node.lordEpoch,
    });
  }
  if (env.trackViews) {
    const lord = env.protocol.machine.view(state, { now: env.now(), rand: () => 0 }).lord?.uuid ?? null;
    if (lord !== node.viewLord) {
      node.viewLord = lord;
      env.record({ t: env.now(), kind: 'view', slot: node.slot, uuid: node.uuid, lord });
    }
  }
}

/** The node is gone or stopped: it claims nothing and sees no lord. */
export function dropLordship<S>(env: HostEnv<S>, node: LordshipSeen): void {
  if (node.lord) {
    node.lord = false;
    node.lordEpoch = 0n;
    env.record({
      t: env.now(),
      kind: 'claim',
      slot: node.slot,
      uuid: node.uuid,
      lord: false,
      epoch: 0n,
    });
  }
  if (node.viewLord !== null && env.trackViews) {
    node.viewLord = null;
    env.record({ t: env.now(), kind: 'view', slot: node.slot, uuid: node.uuid, lord: null });
  }
}
