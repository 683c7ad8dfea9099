/**
 * The runner takes every timer from its scheduler (tick, spaced copies of a death announce, the
 * hold timeout, the close delay), steps inputs that arrive during a step after it, and hands a
 * core that takes heartbeats in bulk what a folding transport heard.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { VirtualTime } from '../../sim/virtual.js';
import { type BulkHeartbeats, type EventSink, LegionRunner } from '../../src/daemon/legion-runner.js';
import type { Effect, FoldedHeartbeats, Input, Machine } from '../../src/legion/types.js';
import type { Datagram, Transport } from '../../src/transport/types.js';
import { params } from '../legion/helpers.js';

type Log = string[];

/** A core that logs its inputs and answers each with the effects the test scripts for it. */
function core(script: (input: Input<string>, now: number) => Effect<string>[], wake = 100) {
  const log: Log = [];
  const machine: Machine<number, string> = {
    init: () => 0,
    step: (s, input, ctx) => {
      log.push(`${ctx.now} ${input.type}${input.type === 'packet' ? `:${input.packet}` : ''}`);
      return { state: s + 1, effects: script(input, ctx.now), wakeAt: ctx.now + wake };
    },
    view: () => {
      throw new Error('not used');
    },
    workLease: () => null,
    status: () => ({ phase: 'running' as const, lord: false, lordEpoch: 0n, maxEpoch: 0n, vote: null }),
  };
  return { machine, log };
}

function transport(sent: string[]) {
  let deliver: ((d: Datagram) => void) | null = null;
  const t: Transport = {
    send: (b) => sent.push(new TextDecoder().decode(b)),
    onDatagram: (h) => {
      deliver = h;
    },
    stats: () => ({ packetsSent: 0, bytesSent: 0, packetsReceived: 0, bytesReceived: 0, sendErrors: 0 }),
    close: async () => {},
  };
  const packet = (text: string) =>
    deliver!({ bytes: new TextEncoder().encode(text), from: { address: 'x', port: 1 } });
  return { t, packet };
}

function runner(
  machine: Machine<number, string>,
  o: { sink?: Partial<EventSink>; transport?: Transport; hold?: number; time?: VirtualTime } = {},
) {
  const time = o.time ?? new VirtualTime();
  const sent: string[] = [];
  const tr = transport(sent);
  const r = new LegionRunner<number, string>({
    params: params(),
    machine,
    codec: {
      encode: (p) => new TextEncoder().encode(`${p}@${time.now}`),
      decode: (b) => new TextDecoder().decode(b),
    },
    transport: o.transport ?? tr.t,
    sink: { onEvent: () => {}, drained: async () => {}, ...o.sink },
    logger: pino({ level: 'silent' }),
    scheduler: time.scheduler({ rand: () => 0.5, wallBaseMs: 1_000_000 }),
    holdTimeoutMs: o.hold ?? 1000,
  });
  return { r, time, sent, packet: tr.packet };
}

describe('runner on a virtual scheduler', () => {
  it('ticks at the core wake-up and spaces the copies of a repeated announce', () => {
    const c = core((input) => (input.type === 'command' ? [{ type: 'send', packet: 'bye', repeat: 3 }] : []));
    const h = runner(c.machine);
    h.r.start();
    h.time.runUntil(250);
    expect(c.log).toEqual(['0 start', '100 tick', '200 tick']);
    h.r.command({ type: 'shutdown' });
    h.time.runUntil(300);
    expect(h.sent).toEqual(['bye@250', 'bye@265', 'bye@280']);
  });

  it('answers await-hooks at the hold timeout when the sink stays busy, and tells the sink', () => {
    let timedOut = 0;
    const c = core((input) => (input.type === 'command' ? [{ type: 'await-hooks' }] : []), 1e9);
    const h = runner(c.machine, {
      hold: 700,
      sink: { whenDrained: () => {}, onHoldTimeout: () => timedOut++ },
    });
    h.r.start();
    h.time.runUntil(10);
    h.r.command({ type: 'stepdown', forMs: 1 });
    h.time.runUntil(2000);
    expect(c.log).toEqual(['0 start', '10 command', '710 hooks-drained']);
    expect(timedOut).toBe(1);
  });

  it('steps an input a sink gives during a step after that step, not inside it', () => {
    let r: LegionRunner<number, string> | null = null;
    const c = core((input) =>
      input.type === 'command' && input.command.type === 'stepdown'
        ? [{ type: 'await-hooks' }, { type: 'send', packet: 'after' }]
        : [],
    );
    const h = runner(c.machine, {
      sink: {
        // drained at once, and a failing hook reported at once: both inside the step
        whenDrained: (done) => {
          r!.command({ type: 'hook-failed', event: 'lord', stepdownMs: 5 });
          done();
        },
      },
    });
    r = h.r;
    h.r.start();
    h.r.command({ type: 'stepdown', forMs: 1 });
    expect(c.log).toEqual(['0 start', '0 command', '0 command', '0 hooks-drained']);
    expect(h.sent).toEqual(['after@0']);
  });

  it('close waits on the scheduler for pending copies, then closes the transport', async () => {
    const c = core((input) => (input.type === 'command' ? [{ type: 'send', packet: 'x', repeat: 2 }] : []));
    const h = runner(c.machine);
    h.r.start();
    h.r.command({ type: 'shutdown' });
    let closed = false;
    const p = h.r.close().then(() => {
      closed = true;
    });
    await Promise.resolve();
    expect(closed).toBe(false);
    h.time.runUntil(100);
    await p;
    expect(closed).toBe(true);
    expect(h.sent).toEqual(['x@0', 'x@15']);
  });

  it('hands a core that takes heartbeats in bulk what the transport heard, when due', () => {
    const refreshes: number[] = [];
    const c = core(() => []);
    const folded: Machine<number, string> & FoldedHeartbeats<number, string> = {
      ...c.machine,
      noteHeard: (_s, heardAt, now) => {
        refreshes.push(now);
        expect(heardAt('someone', 0)).toBe(now - 1);
        return now + 150;
      },
      // a packet from "voter" brings the refresh forward
      heardDueAfter: (_s, due, packet, now) => (packet === 'voter' ? Math.min(due, now + 10) : due),
    };
    const sent: string[] = [];
    const tr = transport(sent);
    const bulk: Transport & BulkHeartbeats = { ...tr.t, heardBy: (now) => () => now - 1 };
    const h = runner(folded, { transport: bulk });
    h.r.start(); // refresh at 0, due 150
    h.time.runUntil(120); // tick at 100: not due
    tr.packet('voter'); // at 120: due 130
    h.time.runUntil(135);
    tr.packet('other'); // at 135: refresh, due 285
    expect(refreshes).toEqual([0, 135]);
    expect(c.log).toEqual(['0 start', '100 tick', '120 packet:voter', '135 packet:other']);
  });
});
