/**
 * How fast the simulator runs big legions: N = 100 for a virtual hour and N = 1000 for a virtual
 * minute (sim/scenarios/scale-*.yaml), printing wall time, events processed and events/s, and
 * where the time goes (core step, codec, the simulator itself).
 *
 *   npm run build && npx tsx bench/sim-scale.ts [--budget SECONDS] [--only scale-100|scale-1000] [--seed N]
 *
 * It measures the compiled dist/ (as bench/throughput.ts does): the same code under tsx runs
 * about a quarter slower.
 *
 * A run that exceeds the wall budget (default 60 s) stops early; the figures then say how far
 * it got and extrapolate the full run.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type * as CheckerModule from '../sim/checker.js';
import type * as DurationModule from '../sim/duration.js';
import type * as MetricsModule from '../sim/metrics.js';
import type * as PrngModule from '../sim/prng.js';
import type * as ProtocolModule from '../sim/protocol.js';
import type * as ScenarioModule from '../sim/scenario.js';
import type * as WorldModule from '../sim/world.js';
import type * as MachineModule from '../src/legion/machine.js';
import type { NativeState } from '../src/legion/machine.js';
import type * as MembershipModule from '../src/legion/membership.js';
import type { FoldedHeartbeats, Machine } from '../src/legion/types.js';
import type * as NativeModule from '../src/protocol/native.js';
import type { Decoded } from '../src/protocol/native.js';
import type { Announce } from '../src/protocol/types.js';
import { fromDist } from './from-dist.js';

const BENCH = 'bench/sim-scale.ts';

// A young generation of 128 MB (V8's default is 16): a legion of 1000 forming allocates millions
// of short-lived objects within milliseconds of virtual time, and a small young generation copies
// most of them once or twice before they die. It was a fifth of the run. `npm run sim` sets it too.
const YOUNG = '--max-semi-space-size=128';
if (!process.execArgv.includes(YOUNG)) {
  const r = spawnSync(process.execPath, [...process.execArgv, YOUNG, ...process.argv.slice(1)], {
    stdio: 'inherit',
  });
  process.exit(r.status ?? 1);
}

const { Checker } = await fromDist<typeof CheckerModule>('sim/checker.js', BENCH);
const { formatDuration } = await fromDist<typeof DurationModule>('sim/duration.js', BENCH);
const { Metrics } = await fromDist<typeof MetricsModule>('sim/metrics.js', BENCH);
const { Prng } = await fromDist<typeof PrngModule>('sim/prng.js', BENCH);
const { loadScenario } = await fromDist<typeof ScenarioModule>('sim/scenario.js', BENCH);
const { Simulation } = await fromDist<typeof WorldModule>('sim/world.js', BENCH);
const { nativeMachine } = await fromDist<typeof MachineModule>('src/legion/machine.js', BENCH);
const { nativeHeartbeats } = await fromDist<typeof MembershipModule>('src/legion/membership.js', BENCH);
const { nativeProbe } = await fromDist<typeof ProtocolModule>('sim/protocol.js', BENCH);
const { NativeDecoder, NativeEncoder } = await fromDist<typeof NativeModule>('src/protocol/native.js', BENCH);
type NativeEncoder = InstanceType<typeof NativeEncoder>;
type NativeDecoder = InstanceType<typeof NativeDecoder>;

const { values } = parseArgs({
  options: {
    budget: { type: 'string', default: '60' },
    only: { type: 'string' },
    seed: { type: 'string', default: '1' },
  },
});
const budgetMs = Number(values.budget) * 1000;
const seed = Number(values.seed);

/** One call in SAMPLE is timed: timing all 10^7 calls of the N = 1000 run cost it ~10 %. */
const SAMPLE = 16;

/**
 * Estimated wall time spent inside a function, from every SAMPLE-th call. The wrappers take their
 * arguments as they are: a rest array and a closure per call cost seconds of their own.
 */
class Meter {
  ms = 0;
  calls = 0;
  /** at the start of a call: a start time for the calls that are timed, else -1 */
  begin(): number {
    return this.calls++ % SAMPLE === 0 ? performance.now() : -1;
  }
  end(t0: number): void {
    if (t0 >= 0) this.ms += (performance.now() - t0) * SAMPLE;
  }
}

function run(name: string) {
  const sc = loadScenario(join(import.meta.dirname, '..', 'sim', 'scenarios', `${name}.yaml`));
  const core = new Meter();
  const enc = new Meter();
  const dec = new Meter();
  const step = nativeMachine.step;
  // the core the simulator runs by default: the native one with its bulk heartbeat refresh
  const machine: Machine<NativeState, Announce> & FoldedHeartbeats<NativeState, Announce> = {
    ...nativeMachine,
    ...nativeHeartbeats,
    step: (state, input, ctx) => {
      const t0 = core.begin();
      try {
        return step(state, input, ctx);
      } finally {
        core.end(t0);
      }
    },
  };
  const origEncode = NativeEncoder.prototype.encode;
  const origInspect = NativeDecoder.prototype.inspect;
  const origAdmit = NativeDecoder.prototype.admit;
  NativeEncoder.prototype.encode = function (this: NativeEncoder, a: Announce) {
    const t0 = enc.begin();
    try {
      return origEncode.call(this, a);
    } finally {
      enc.end(t0);
    }
  };
  // the simulator opens each broadcast once (inspect) and admits it at every receiver (admit)
  NativeDecoder.prototype.inspect = function (this: NativeDecoder, b: Uint8Array) {
    const t0 = dec.begin();
    try {
      return origInspect.call(this, b);
    } finally {
      dec.end(t0);
    }
  };
  NativeDecoder.prototype.admit = function (this: NativeDecoder, d: Decoded, w: number) {
    const t0 = dec.begin();
    try {
      return origAdmit.call(this, d, w);
    } finally {
      dec.end(t0);
    }
  };
  try {
    const sim = new Simulation(sc, { seed, machine, probe: nativeProbe });
    const checker = new Checker(sim);
    const metrics = new Metrics(sim);
    sim.addListener(checker.listener);
    sim.addListener(metrics.listener);
    const t0 = performance.now();
    let more = true;
    // small slices so the wall budget is honoured even while a thousand nodes boot at once
    while (more && performance.now() - t0 < budgetMs) more = sim.run(Number.POSITIVE_INFINITY, 2000);
    const wall = performance.now() - t0;
    const st = sim.stats();
    const reached = Math.min(sim.now, sc.durationMs);
    const m = metrics.finish(sim.now);
    const pct = (x: number) => `${((x / wall) * 100).toFixed(0)}%`;
    const other = wall - core.ms - enc.ms - dec.ms;
    console.log(`${name}: ${sc.nodes.length} nodes, ${formatDuration(sc.durationMs)} virtual, seed ${seed}`);
    console.log(
      `  wall time        ${(wall / 1000).toFixed(2)} s${more ? ` (budget hit at ${formatDuration(Math.round(reached))} virtual)` : ''}`,
    );
    if (more)
      console.log(`  full run, extrapolated  ${(((wall / reached) * sc.durationMs) / 1000).toFixed(0)} s`);
    console.log(
      `  events           ${st.events} (${st.deliveries} packet deliveries, ${st.counters.steps ?? 0} core steps)`,
    );
    if (sc.heartbeats === 'folded') {
      const perRound = sc.nodes.length - 1;
      console.log(
        `  folded           ${st.counters.folded ?? 0} heartbeats (≈ ${((st.counters.folded ?? 0) * perRound).toExponential(1)} deliveries spared), ${st.counters['heard-refresh'] ?? 0} table refreshes`,
      );
    }
    console.log(`  events/s         ${Math.round(st.events / (wall / 1000))}`);
    console.log(`  virtual/wall     ${(reached / wall).toFixed(2)}x`);
    console.log(
      `  time split       core step ${pct(core.ms)} (${((core.ms / Math.max(1, core.calls)) * 1000).toFixed(1)} µs/step), decode ${pct(dec.ms)} (${((dec.ms / Math.max(1, dec.calls)) * 1000).toFixed(1)} µs), encode ${pct(enc.ms)}, simulator ${pct(other)}`,
    );
    console.log(
      `  result           first lord ${m.firstLordMs === null ? 'never' : formatDuration(Math.round(m.firstLordMs))}, ${m.lordEvents} lord events, overlap ${m.overlap.count}, violations ${checker.violationCount}`,
    );
  } finally {
    NativeEncoder.prototype.encode = origEncode;
    NativeDecoder.prototype.inspect = origInspect;
    NativeDecoder.prototype.admit = origAdmit;
  }
}

/**
 * Cost of one core step as the legion grows: a node that knows N-1 live peers receives an
 * announce (with a full `seen` list) from one of them. Built directly, without a simulation, so
 * it also works for N where a simulated convergence would take too long.
 */
function coreStepCost(n: number): { packetUs: number; tickUs: number } {
  const rng = new Prng(n);
  const now0 = 1000;
  const legion = 'bench';
  const uuids = Array.from({ length: n }, () => rng.uuid());
  const params = {
    legion,
    uuid: uuids[0]!,
    name: 'n0',
    valor: 10n,
    quorum: Math.floor(n / 2) + 1,
    intervalMs: 250,
    toleranceMs: 1000,
    jitter: 0.2,
    preempt: true,
    preemptDelayMs: 0,
    lordDelayMs: 0,
    scroll: new Uint8Array(0),
    initialEpoch: 0n,
  };
  const rand = () => rng.float();
  const announceFrom = (i: number): Announce => ({
    legion,
    uuid: uuids[i]!,
    name: `n${i}`,
    valor: 10n,
    epoch: 0n,
    vote: uuids[0]!,
    flags: { lord: false, arbiter: false, dead: false, draining: false },
    viewDigest: 0,
    scroll: new Uint8Array(0),
    seen: Array.from({ length: Math.min(32, n - 2) }, (_, k) => ({
      uuid: uuids[1 + ((i + k) % (n - 1))]!,
      agoMs: (k * 7) % 250,
    })).filter((x) => x.uuid !== uuids[i]),
  });
  let s = nativeMachine.init(params, { now: now0, rand });
  s = nativeMachine.step(s, { type: 'start' }, { now: now0, rand }).state;
  for (let i = 1; i < n; i++)
    s = nativeMachine.step(
      s,
      { type: 'packet', packet: announceFrom(i) },
      { now: now0 + i * 1e-4, rand },
    ).state;
  const t = now0 + 1;
  const packets = Array.from({ length: 50 }, (_, k) => announceFrom(1 + ((k * 37) % (n - 1))));
  const reps = Math.max(20, Math.floor(40_000 / n));
  let t0 = performance.now();
  for (let k = 0; k < reps; k++)
    s = nativeMachine.step(
      s,
      { type: 'packet', packet: packets[k % packets.length]! },
      { now: t + k * 1e-3, rand },
    ).state;
  const packetUs = ((performance.now() - t0) * 1000) / reps;
  t0 = performance.now();
  // a state is consumed by its step, so the ticks follow one another
  for (let k = 0; k < reps; k++)
    s = nativeMachine.step(s, { type: 'tick' }, { now: t + (reps + k) * 1e-3, rand }).state;
  const tickUs = ((performance.now() - t0) * 1000) / reps;
  return { packetUs, tickUs };
}

console.log('core step cost by legion size (µs per step; a full announce round costs N·(N-1) packet steps)');
for (const n of [10, 100, 1000]) {
  const c = coreStepCost(n);
  const roundMs = (c.packetUs * n * (n - 1)) / 1000;
  console.log(
    `  N=${String(n).padEnd(5)} packet ${c.packetUs.toFixed(1).padStart(8)} µs   tick ${c.tickUs.toFixed(1).padStart(8)} µs   one round of announces ≈ ${roundMs.toFixed(0)} ms wall`,
  );
}
console.log('');
for (const name of ['scale-100', 'scale-1000']) if (!values.only || values.only === name) run(name);
