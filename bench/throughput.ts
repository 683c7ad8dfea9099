/**
 * Announces decoded, authenticated and applied per second on one core, in process: packets from
 * 50 simulated senders (increasing seq, MAX_ATTESTATIONS attestations each, as a 50-node legion
 * sends them) go through NativeDecoder.decode and nativeMachine.step of one receiving node, bare
 * and through the daemon's shell (LegionRunner: counters, timer upkeep, effects).
 *
 * The code measured is the compiled dist/ the daemon runs (`npm run bench` builds it first): run
 * through tsx, the same decode cost three times as much, which once made this table blame the
 * decoder for CPU the daemon does not spend.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import pino from 'pino';
import type * as RunnerModule from '../src/daemon/legion-runner.js';
import type * as AnnounceModule from '../src/legion/announce.js';
import type * as MachineModule from '../src/legion/machine.js';
import type { NativeState } from '../src/legion/machine.js';
import type { Ctx, LegionParams } from '../src/legion/types.js';
import type * as CryptoModule from '../src/protocol/crypto.js';
import type { KeyRing } from '../src/protocol/crypto.js';
import type * as NativeModule from '../src/protocol/native.js';
import type { Announce } from '../src/protocol/types.js';
import type { Datagram } from '../src/transport/types.js';
import { fromDist } from './from-dist.js';

const BENCH = 'bench/throughput.ts';

const { MAX_ATTESTATIONS } = await fromDist<typeof AnnounceModule>('src/legion/announce.js', BENCH);
const { viewDigest } = await fromDist<typeof AnnounceModule>('src/legion/announce.js', BENCH);
const { nativeMachine } = await fromDist<typeof MachineModule>('src/legion/machine.js', BENCH);
const { makeKeyRing } = await fromDist<typeof CryptoModule>('src/protocol/crypto.js', BENCH);
const { NativeDecoder, NativeEncoder } = await fromDist<typeof NativeModule>('src/protocol/native.js', BENCH);
type NativeDecoder = InstanceType<typeof NativeDecoder>;
const { LegionRunner } = await fromDist<typeof RunnerModule>('src/daemon/legion-runner.js', BENCH);

export interface ThroughputRow {
  stage: string;
  /** announces per CPU-second, median of the passes */
  perSecond: number;
  /** microseconds per announce */
  usPerAnnounce: number;
  passes: number[];
}

export interface ThroughputResult {
  senders: number;
  attestations: number;
  packets: number;
  packetBytes: number;
  rows: ThroughputRow[];
}

const LEGION = 'bench';
const INTERVAL_MS = 250;
const WALL0 = 1_700_000_000_000;

interface Fixture {
  receiver: LegionParams;
  packets: Uint8Array[];
  /** simulated monotonic time (and wall time past WALL0) at which each packet arrives */
  atMs: number[];
  keys: KeyRing | null;
}

function fixture(senders: number, rounds: number, secure: boolean): Fixture {
  const keys = secure ? makeKeyRing([randomBytes(32)], LEGION) : null;
  const uuids = Array.from({ length: senders }, () => randomUUID()).sort();
  const receiverUuid = randomUUID();
  const digest = viewDigest([receiverUuid, ...uuids]);
  const lord = uuids[uuids.length - 1]!;
  let wall = WALL0;
  const encoders = uuids.map(() => new NativeEncoder({ legion: LEGION, keys, wallClock: () => wall }));
  const scroll = new TextEncoder().encode('addr=10.0.0.5:6379');
  const packets: Uint8Array[] = [];
  const atMs: number[] = [];
  for (let r = 0; r < rounds; r++) {
    for (let i = 0; i < senders; i++) {
      const t = r * INTERVAL_MS + (i * INTERVAL_MS) / senders;
      wall = WALL0 + t;
      const uuid = uuids[i]!;
      const a: Announce = {
        legion: LEGION,
        uuid,
        name: `node${i}`,
        valor: BigInt(i + 1),
        epoch: 1n,
        vote: lord,
        flags: { lord: uuid === lord, arbiter: false, dead: false, draining: false },
        viewDigest: digest,
        scroll,
        seen: uuids
          .filter((u) => u !== uuid)
          .slice(0, MAX_ATTESTATIONS)
          .map((u) => ({ uuid: u, agoMs: 100 })),
      };
      packets.push(encoders[i]!.encode(a));
      atMs.push(t);
    }
  }
  const receiver: LegionParams = {
    legion: LEGION,
    uuid: receiverUuid,
    name: 'receiver',
    valor: 0n,
    quorum: 1,
    intervalMs: INTERVAL_MS,
    toleranceMs: 1000,
    jitter: 0.2,
    preempt: true,
    preemptDelayMs: 0,
    lordDelayMs: 0,
    scroll: new Uint8Array(0),
    initialEpoch: 0n,
  };
  return { receiver, packets, atMs, keys };
}

function startMachine(f: Fixture): { state: NativeState; ctx: Ctx } {
  const ctx: Ctx = { now: 0, rand: Math.random };
  let state = nativeMachine.init(f.receiver, ctx);
  state = nativeMachine.step(state, { type: 'start' }, ctx).state;
  return { state, ctx };
}

/** A fresh decoder: its replay guard has seen none of the packets yet. */
function newDecoder(f: Fixture): NativeDecoder {
  return new NativeDecoder({ legion: LEGION, keys: f.keys });
}

/**
 * Rate per CPU-second of this thread's process, not per wall second: the machine may be shared,
 * and "on one core" means the CPU time the work costs.
 */
function timed(run: () => number): number {
  const c0 = process.cpuUsage();
  const n = run();
  const c = process.cpuUsage(c0);
  return n / ((c.user + c.system) / 1e6);
}

function passes(count: number, run: () => number): number[] {
  run(); // warm-up: let the JIT optimize before measuring
  return Array.from({ length: count }, () => timed(run));
}

function row(stage: string, rates: number[]): ThroughputRow {
  const sorted = [...rates].sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  return { stage, perSecond: median, usPerAnnounce: 1e6 / median, passes: rates };
}

export function runThroughput(long: boolean): ThroughputResult {
  const senders = 50;
  const rounds = long ? 400 : 100;
  const count = long ? 9 : 5;
  const f = fixture(senders, rounds, true);
  const plain = fixture(senders, rounds, false);
  const announces = (() => {
    const d = newDecoder(f);
    return f.packets.map((p, i) => d.decode(p, WALL0 + f.atMs[i]!).announce);
  })();

  const decodeAll = (fx: Fixture) => () => {
    const d = newDecoder(fx);
    for (let i = 0; i < fx.packets.length; i++) d.decode(fx.packets[i]!, WALL0 + fx.atMs[i]!);
    return fx.packets.length;
  };
  const stepAll = () => {
    let { state, ctx } = startMachine(f);
    for (let i = 0; i < announces.length; i++) {
      ctx = { now: f.atMs[i]!, rand: ctx.rand };
      state = nativeMachine.step(state, { type: 'packet', packet: announces[i]! }, ctx).state;
    }
    return announces.length;
  };
  const both = () => {
    const d = newDecoder(f);
    let { state, ctx } = startMachine(f);
    for (let i = 0; i < f.packets.length; i++) {
      const at = f.atMs[i]!;
      const a = d.decode(f.packets[i]!, WALL0 + at).announce;
      ctx = { now: at, rand: ctx.rand };
      state = nativeMachine.step(state, { type: 'packet', packet: a }, ctx).state;
    }
    return f.packets.length;
  };
  const shell = () => {
    const d = newDecoder(f);
    let at = 0;
    let deliver: ((d: Datagram) => void) | null = null;
    const runner = new LegionRunner<NativeState, Announce>({
      params: f.receiver,
      machine: nativeMachine,
      codec: { encode: () => new Uint8Array(0), decode: (b, wall) => d.decode(b, wall).announce },
      transport: {
        send: () => {},
        onDatagram: (h) => {
          deliver = h;
        },
        stats: () => ({ packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0, sendErrors: 0 }),
        close: async () => {},
      },
      sink: { onEvent: () => {}, drained: async () => {} },
      logger: pino({ level: 'silent' }),
      // the packets' own times, on the system's timers (the runner keeps one pending)
      clock: { mono: () => at, wall: () => WALL0 + at, rand: Math.random },
      holdTimeoutMs: 1000,
    });
    runner.start();
    const from = { address: '127.0.0.1', port: 1 };
    for (let i = 0; i < f.packets.length; i++) {
      at = f.atMs[i]!;
      deliver!({ bytes: f.packets[i]!, from });
    }
    void runner.close();
    return f.packets.length;
  };
  return {
    senders,
    attestations: MAX_ATTESTATIONS,
    packets: f.packets.length,
    packetBytes: f.packets[0]!.length,
    rows: [
      row('decode + authenticate + step (AES-256-GCM)', passes(count, both)),
      row('the same through the daemon shell (LegionRunner)', passes(count, shell)),
      row('decode + authenticate only', passes(count, decodeAll(f))),
      row('decode only (insecure plaintext)', passes(count, decodeAll(plain))),
      row('step only (election core)', passes(count, stepAll)),
    ],
  };
}
