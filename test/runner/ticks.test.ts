/**
 * The runner ticks the core no later than the core asks, and keeps one pending timer instead of
 * replacing it at every packet: a core that moves its wake-up later gets an early tick, one
 * that moves it earlier gets a tick at the earlier time.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LegionRunner } from '../../src/daemon/legion-runner.js';
import type { Input, Machine } from '../../src/legion/types.js';
import type { Datagram, Transport } from '../../src/transport/types.js';
import { params } from '../legion/helpers.js';

type Tick = { at: number; input: Input<string>['type'] };

/** A core that records when it is stepped and asks for the wake-ups the test feeds it. */
function scriptedCore(wakes: number[]) {
  const steps: Tick[] = [];
  const machine: Machine<number, string> = {
    init: () => 0,
    step: (s, input, ctx) => {
      steps.push({ at: ctx.now, input: input.type });
      // once the script runs out the core wants no tick at all
      return { state: s + 1, effects: [], wakeAt: wakes.shift() ?? Number.POSITIVE_INFINITY };
    },
    view: () => {
      throw new Error('not used');
    },
    workLease: () => null,
    status: () => ({ phase: 'running', lord: false, lordEpoch: 0n, maxEpoch: 0n, vote: null }),
  };
  return { machine, steps };
}

function harness(wakes: number[]) {
  let deliver: ((d: Datagram) => void) | null = null;
  const transport: Transport = {
    send: () => {},
    onDatagram: (h) => {
      deliver = h;
    },
    stats: () => ({}) as ReturnType<Transport['stats']>,
    close: async () => {},
  };
  const core = scriptedCore(wakes);
  const runner = new LegionRunner<number, string>({
    params: params(),
    machine: core.machine,
    codec: { encode: () => new Uint8Array(), decode: (b) => String(b[0]) },
    transport,
    sink: { onEvent: () => {}, drained: async () => {} },
    logger: pino({ level: 'silent' }),
    clock: { mono: () => Date.now(), wall: () => Date.now(), rand: () => 0.5 },
    holdTimeoutMs: 1000,
  });
  const packet = () =>
    deliver!({ bytes: Uint8Array.of(1), from: { address: '127.0.0.1', port: 1 } } as Datagram);
  return { runner, steps: core.steps, packet };
}

const ticksOf = (steps: Tick[]) => steps.filter((s) => s.input === 'tick').map((s) => s.at);

describe('runner ticks', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps the pending timer when the wake-up moves later, and ticks early once', async () => {
    // start asks for 100; the packets at 10 and 20 ask for 150 and 200; the tick at 100 asks for 200 again
    const h = harness([100, 150, 200, 200]);
    h.runner.start();
    vi.advanceTimersByTime(10);
    h.packet();
    vi.advanceTimersByTime(10);
    h.packet();
    vi.advanceTimersByTime(200);
    expect(ticksOf(h.steps)).toEqual([100, 200]);
    vi.useRealTimers(); // close() waits on a real timer
    await h.runner.close();
  });

  it('ticks at an earlier wake-up asked after a later one', async () => {
    const h = harness([100, 30, 500]);
    h.runner.start();
    vi.advanceTimersByTime(10);
    h.packet();
    vi.advanceTimersByTime(100);
    expect(ticksOf(h.steps)).toEqual([30]);
    vi.useRealTimers(); // close() waits on a real timer
    await h.runner.close();
  });

  it('a wake-up in the past ticks 1 ms later, never at once in a loop', async () => {
    const h = harness([-5, -5, -5]);
    h.runner.start();
    vi.advanceTimersByTime(5);
    expect(ticksOf(h.steps)).toEqual([1, 2, 3]);
    vi.useRealTimers(); // close() waits on a real timer
    await h.runner.close();
  });
});
