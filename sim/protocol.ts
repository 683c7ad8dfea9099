/**
 * What the simulator needs to know about a protocol: its core, how to read lordship from the
 * core's state, and its wire (the real codecs). The native one opens each broadcast once for all
 * its receivers (authentication and parsing give the same result everywhere, as every node holds
 * the same keys) and admits it at each receiver with that node's own replay guard. The uWSGI one
 * decodes at every receiver: its codec has no such split, and its legions are small.
 */
import { isLegiondError, LegiondError } from '../src/errors.js';
import { type NativeState, nativeMachine, nativeMachineWith } from '../src/legion/machine.js';
import { nativeHeartbeats } from '../src/legion/membership.js';
import type { Announced, LegionParams, Machine } from '../src/legion/types.js';
import { uwsgiMachine } from '../src/legion/uwsgi/machine.js';
import type { UwsgiParams, UwsgiState } from '../src/legion/uwsgi/types.js';
import { makeKeyRing } from '../src/protocol/crypto.js';
import { type Decoded, NativeDecoder, NativeEncoder } from '../src/protocol/native.js';
import type { Announce } from '../src/protocol/types.js';
import { type UwsgiAnnounce, UwsgiCodec } from '../src/protocol/uwsgi/codec.js';
import type { SimEvent } from './events.js';
import type { Prng } from './prng.js';
import type { Scenario } from './scenario-types.js';

/** a copy of a broadcast: the broadcast itself, which holds its sender and bytes */
export type Copy = Extract<SimEvent, { k: 'fanout' }>;

/** A node's lordship as the core itself believes it. */
export interface Lordship {
  lord: boolean;
  epoch: bigint;
  /** the highest epoch the node knows, which a state directory would keep */
  maxEpoch: bigint;
}

/** Reads lordship straight from a core state; cheaper than building a full view after every step. */
export type LordProbe<S> = (state: S) => Lordship;

/** One node incarnation's ends of the wire. */
export interface SimWire<P> {
  encode(packet: P, wallMs: number): Uint8Array;
  /** takes one copy of a broadcast in at this receiver; throws LegiondError for a drop */
  admit(copy: Copy, wallMs: number): P;
}

/** For a protocol whose heartbeats can be folded (sim/heartbeats.ts): what the folder reads of a packet. */
export interface FoldRule<P> {
  announced(packet: P): Announced;
  sender(packet: P): string;
}

export interface SimProtocol<S, P> {
  readonly name: 'native' | 'uwsgi';
  readonly machine: Machine<S, P>;
  probe(state: S): Lordship;
  /**
   * Whether lord epochs form one sequence across the legion, so that the checker's fencing
   * rules apply: the native core's do; uWSGI carries no epoch, each node counts what it saw.
   */
  readonly fencing: boolean;
  /** null when this protocol's heartbeats cannot be folded */
  readonly fold: FoldRule<P> | null;
  /** the string a node's identity is kept as (the native opener's shared copy) */
  identity(uuid: string): string;
  /** the codec ends of a new incarnation; may draw from `rng` (a nonce prefix) */
  wire(rng: Prng, wall: () => number): SimWire<P>;
  /** the core's init parameters from the common ones (uWSGI's add the pid) */
  initParams(slot: number, common: LegionParams): LegionParams;
}

/** the simulator reads no state fields: the cores' status query says what it needs */
function probeOf<S>(machine: Machine<S, unknown>): LordProbe<S> {
  return (s) => {
    const st = machine.status(s);
    return { lord: st.lord, epoch: st.lordEpoch, maxEpoch: st.maxEpoch };
  };
}

export const nativeProbe: LordProbe<NativeState> = probeOf(nativeMachine);

export const uwsgiProbe: LordProbe<UwsgiState> = probeOf(uwsgiMachine);

const NATIVE_FOLD: FoldRule<Announce> = { announced: (p) => p, sender: (p) => p.uuid };

/** the native core with its bulk heartbeat refresh (src/legion/membership.ts) */
// the trace needs no member lists, and building one per node event is O(N)
const withHeartbeats = { ...nativeMachineWith({ eventMembers: false }), ...nativeHeartbeats };

/** The native core with the real native codec. */
export function nativeProtocol(scenario: Scenario, secure: boolean): SimProtocol<NativeState, Announce> {
  return nativeWire(scenario, secure, withHeartbeats, nativeProbe);
}

/** A core that speaks native announces (the native one, or a test's stand-in) with the real native codec. */
export function nativeWire<S>(
  scenario: Scenario,
  secure: boolean,
  machine: Machine<S, Announce>,
  probe: LordProbe<S>,
): SimProtocol<S, Announce> {
  const legion = scenario.name;
  const keys = secure ? makeKeyRing([new TextEncoder().encode(`sim secret for ${legion}`)], legion) : null;
  const opener = new NativeDecoder({ legion, keys });
  /**
   * Authentication and parsing of one broadcast, done once and shared by its receivers; each
   * receiver still runs its own legion and replay checks. Decryption per receiver was a quarter
   * of the simulator's time at N = 100.
   */
  const open = (copy: Copy): Decoded => {
    let d = copy.opened;
    if (d === null) {
      try {
        d = opener.inspect(copy.bytes);
      } catch (e) {
        if (!isLegiondError(e)) throw e;
        d = e;
      }
      copy.opened = d;
    }
    if (d instanceof LegiondError) throw d;
    return d;
  };
  return {
    name: 'native',
    machine,
    probe,
    fencing: true,
    fold: NATIVE_FOLD,
    identity: (uuid) => opener.shared(uuid),
    wire(rng, wall) {
      const noncePrefix = new Uint8Array(4);
      new DataView(noncePrefix.buffer).setUint32(0, rng.u32());
      const encoder = new NativeEncoder({ legion, keys, wallClock: wall, noncePrefix });
      const decoder = new NativeDecoder({ legion, keys, replayWindowMs: scenario.replayWindowMs });
      return {
        encode: (packet) => encoder.encode(packet),
        admit: (copy, wallMs) => decoder.admit(open(copy), wallMs).announce,
      };
    },
    initParams: (_slot, common) => common,
  };
}

/** The uWSGI-compatible core with the real uWSGI codec (always encrypted, as uWSGI is). */
export function uwsgiProtocol(scenario: Scenario): SimProtocol<UwsgiState, UwsgiAnnounce> {
  const codec = new UwsgiCodec({
    legion: scenario.name,
    cipher: 'aes-128-cbc',
    secret: new TextEncoder().encode(`sim secret for ${scenario.name}`),
  });
  return {
    name: 'uwsgi',
    machine: uwsgiMachine,
    probe: uwsgiProbe,
    fencing: false,
    fold: null,
    identity: (uuid) => uuid,
    wire: () => ({
      encode: (packet, wallMs) => codec.encode(packet, wallMs),
      admit: (copy, wallMs) => codec.decode(copy.bytes, wallMs),
    }),
    // uWSGI announces carry the master's pid; any fixed one per slot does
    initParams: (slot, common): UwsgiParams => ({ ...common, pid: 1000 + slot }),
  };
}

/**
 * The scenario's protocol. Without a machine of the caller's, S is the native or the uWSGI
 * core's state, as the scenario says: the one place the generic parameter is taken on trust.
 */
export function scenarioProtocol<S>(
  sc: Scenario,
  secure: boolean,
  o: { machine?: Machine<S, Announce>; probe?: LordProbe<S> },
): SimProtocol<S, unknown> {
  if (o.machine !== undefined) {
    if (o.probe === undefined)
      throw new LegiondError('ERR_CONFIG', "a machine of the caller's needs its probe");
    return nativeWire(sc, secure, o.machine, o.probe);
  }
  const p: SimProtocol<NativeState, Announce> | SimProtocol<UwsgiState, UwsgiAnnounce> =
    sc.protocol === 'uwsgi' ? uwsgiProtocol(sc) : nativeProtocol(sc, secure);
  return p as unknown as SimProtocol<S, unknown>;
}
