/**
 * The sim shell, driven by a scripted fake core so the assertions are about the harness itself:
 * pause/resume order, serial hooks and await-hooks, crash voiding pending work, network shapes.
 */
import { describe, expect, it } from 'vitest';
import { components } from '../../sim/components.js';
import { cutLinks, groupsLinks, Network, oneWayLinks, ringLinks } from '../../sim/network.js';
import { Prng } from '../../sim/prng.js';
import { EventQueue } from '../../sim/queue.js';
import { scenarioFromObject } from '../../sim/scenario.js';
import type { TraceRecord } from '../../sim/trace.js';
import { Simulation } from '../../sim/world.js';
import type { Effect, Input, LegionEvent, Machine, MemberInfo, StepResult } from '../../src/legion/types.js';
import type { Announce } from '../../src/protocol/types.js';

interface FakeState {
  uuid: string;
  name: string;
  legion: string;
  log: string[];
  wake: number;
}

function member(s: FakeState): MemberInfo {
  return {
    uuid: s.uuid,
    name: s.name,
    valor: 1n,
    lord: false,
    arbiter: false,
    observer: false,
    draining: false,
    self: true,
    scroll: new Uint8Array(0),
    lastSeenMs: 0,
    vote: null,
    epoch: 0n,
  };
}

function announce(s: FakeState): Announce {
  return {
    legion: s.legion,
    uuid: s.uuid,
    name: s.name,
    valor: 1n,
    epoch: 0n,
    vote: null,
    flags: { lord: false, arbiter: false, dead: false, draining: false },
    viewDigest: 0,
    scroll: new Uint8Array(0),
    seen: [],
  };
}

function event(s: FakeState, type: LegionEvent['type'], now: number): Effect {
  return { type: 'event', event: { type, epoch: 0n, self: member(s), lord: null, members: [], atMs: now } };
}

/**
 * Announces every 100 ms; `setup` at start; `stepdown` emits lord+unlord hooks and awaits them;
 * `set-valor` emits a lord event alone; logs every input.
 */
const fake: Machine<FakeState, Announce> = {
  init: (p) => ({ uuid: p.uuid, name: p.name, legion: p.legion, log: [], wake: Number.POSITIVE_INFINITY }),
  step(s, input: Input, ctx): StepResult<FakeState> {
    const label =
      input.type === 'packet'
        ? `packet:${input.packet.name}`
        : input.type === 'command'
          ? `command:${input.command.type}`
          : input.type;
    const next: FakeState = { ...s, log: [...s.log, `${ctx.now.toFixed(0)} ${label}`] };
    const effects: Effect[] = [];
    if (input.type === 'start' || (input.type === 'tick' && ctx.now >= s.wake)) {
      effects.push({ type: 'send', packet: announce(s) });
      next.wake = ctx.now + 100;
    }
    if (input.type === 'start') effects.push(event(s, 'setup', ctx.now));
    if (input.type === 'command' && input.command.type === 'stepdown') {
      effects.push(event(s, 'lord', ctx.now), event(s, 'unlord', ctx.now), { type: 'await-hooks' });
    }
    if (input.type === 'command' && input.command.type === 'set-valor')
      effects.push(event(s, 'lord', ctx.now));
    return { state: next, effects, wakeAt: next.wake };
  },
  view: (s) => ({
    legion: s.legion,
    self: member(s),
    lord: null,
    epoch: 0n,
    quorum: 1,
    quorumMet: true,
    votes: 1,
    baseValor: 0n,
    valor: 1n,
    draining: false,
    drainingUntilMs: null,
    members: [],
    phase: 'running',
  }),
  workLease: () => null,
  status: () => ({ phase: 'running' as const, lord: false, lordEpoch: 0n, maxEpoch: 0n, vote: null }),
};

function fakeSim(doc: Record<string, unknown>, trace: TraceRecord[] = []) {
  const sc = scenarioFromObject(
    { nodes: [{ name: 'a' }, { name: 'b' }], network: { delay: '10ms', jitter: 0 }, ...doc },
    'fake',
  );
  return new Simulation<FakeState>(sc, {
    seed: 1,
    machine: fake,
    probe: () => ({ lord: false, epoch: 0n, maxEpoch: 0n }),
    listeners: [(r) => trace.push(r)],
  });
}

const logOf = (sim: Simulation<FakeState>, name: string) =>
  sim.nodes.find((n) => n.name === name)!.coreState!.log;

describe('sim shell', () => {
  it('ticks at wakeAt and delivers packets after the link delay', () => {
    const sim = fakeSim({ duration: '250ms' });
    sim.run();
    expect(logOf(sim, 'b')).toEqual([
      '0 start',
      '10 packet:a',
      '100 tick',
      '110 packet:a',
      '200 tick',
      '210 packet:a',
    ]);
  });

  it('a paused node fires its due timer before the packets queued during the pause', () => {
    const sim = fakeSim({
      duration: '700ms',
      timeline: [{ at: '150ms', pause: { node: 'b', for: '400ms' } }],
    });
    sim.run();
    expect(logOf(sim, 'b')).toEqual([
      '0 start',
      '10 packet:a',
      '100 tick',
      '110 packet:a',
      // frozen from 150 to 550: a's packets of 210, 310, 410, 510 wait in the socket
      '550 tick',
      '550 packet:a',
      '550 packet:a',
      '550 packet:a',
      '550 packet:a',
      '610 packet:a',
      '650 tick',
    ]);
  });

  it('hooks run one at a time; await-hooks is answered when the queue is empty', async () => {
    const trace: TraceRecord[] = [];
    const sim = fakeSim(
      {
        duration: '10s',
        hooks: { duration: '1s' },
        timeline: [{ at: '2s', stepdown: { node: 'a', for: '1s' } }],
      },
      trace,
    );
    await sim.runAsync();
    const hooks = trace
      .filter((r) => r.kind === 'proc' && r.slot === 0)
      .map((r) => (r.kind === 'proc' ? `${r.t} ${r.work} ${r.op}` : ''));
    expect(hooks).toEqual([
      '0 hook-setup start',
      '1000 hook-setup exit',
      '2000 hook-lord start',
      '3000 hook-lord exit',
      '3000 hook-unlord start',
      '4000 hook-unlord exit',
    ]);
    expect(logOf(sim, 'a').filter((l) => !l.includes('tick') && !l.includes('packet'))).toEqual([
      '0 start',
      '2000 command:stepdown',
      '4000 hooks-drained',
    ]);
  });

  it('a run with hooks needs runAsync', () => {
    const sim = fakeSim({ hooks: { duration: '1s' } });
    expect(() => sim.run()).toThrow(/use runAsync/);
  });

  it('the hold timeout answers await-hooks when hooks take too long', async () => {
    const trace: TraceRecord[] = [];
    const sim = fakeSim(
      {
        duration: '10s',
        hooks: { duration: '5s', hold_timeout: '2s' },
        timeline: [{ at: '6s', stepdown: { node: 'a', for: '1s' } }],
      },
      trace,
    );
    await sim.runAsync();
    // the daemon's hold: hold_timeout plus the workload's stop bound (1 s without daemons)
    expect(logOf(sim, 'a').filter((l) => l.includes('hooks-drained'))).toEqual(['9000 hooks-drained']);
    expect(trace.some((r) => r.kind === 'note' && r.t === 9000 && r.text.includes('hold timeout'))).toBe(
      true,
    );
  });

  it('a failing lord hook sends hook-failed when configured', async () => {
    const sim = fakeSim({
      duration: '5s',
      hooks: { fail: ['lord'], fail_stepdown: '3s' },
      timeline: [{ at: '1s', 'set-valor': { node: 'a', valor: 2 } }],
    });
    await sim.runAsync();
    expect(logOf(sim, 'a')).toContain('1000 command:hook-failed');
    expect(sim.nodes[0]!.drainUntilMs).toBe(4000);
  });

  it('a crash leaves its hook running unheard; the node restarts with a new identity', async () => {
    const trace: TraceRecord[] = [];
    const sim = fakeSim(
      {
        duration: '10s',
        hooks: { duration: '3s' },
        timeline: [{ at: '1s', crash: { node: 'a', restart_after: '1s' } }],
      },
      trace,
    );
    await sim.runAsync();
    const starts = trace.flatMap((r) => (r.kind === 'start' && r.slot === 0 ? [r.uuid] : []));
    expect(starts).toHaveLength(2);
    expect(starts[0]).not.toBe(starts[1]);
    // the first legiond's setup hook runs to its end at 3s (nobody hears of it); the second's, 2s..5s
    const procs = trace.flatMap((r) =>
      r.kind === 'proc' && r.slot === 0 ? [`${r.t} ${r.uuid === starts[0] ? 1 : 2} ${r.op}`] : [],
    );
    expect(procs).toEqual(['0 1 start', '2000 2 start', '3000 1 exit', '5000 2 exit']);
    expect(logOf(sim, 'b').filter((l) => l.startsWith('1'))).not.toContain('1010 packet:a');
  });

  it('a crash of the whole host ends its processes with it', async () => {
    const trace: TraceRecord[] = [];
    const sim = fakeSim(
      {
        duration: '5s',
        hooks: { duration: '3s' },
        timeline: [{ at: '1s', crash: { node: 'a', host: true } }],
      },
      trace,
    );
    await sim.runAsync();
    const ends = trace.filter((r) => r.kind === 'proc' && r.slot === 0 && r.op === 'exit');
    expect(ends.map((r) => (r.kind === 'proc' ? `${r.t} ${r.how}` : ''))).toEqual(['1000 SIGKILL']);
  });
});

describe('faults that name nobody', () => {
  it('are skipped with a note instead of failing the run', () => {
    const trace: TraceRecord[] = [];
    const sim = fakeSim(
      {
        duration: '1s',
        timeline: [
          { at: '100ms', partition: { isolate: 'lord' } },
          { at: '200ms', crash: 'lord' },
          { at: '300ms', partition: { groups: [['a'], ['a', 'b']] } },
        ],
      },
      trace,
    );
    sim.run();
    const notes = trace.filter((r) => r.kind === 'note').map((r) => (r.kind === 'note' ? r.text : ''));
    expect(notes).toEqual([
      'partition skipped: no node is "lord" now',
      'crash skipped: no node is "lord" now',
      'partition skipped: a would be in two groups',
    ]);
    expect(sim.network.partitioned).toBe(false);
    expect(sim.done).toBe(true);
  });
});

describe('network shapes', () => {
  it('groups block every link between groups, unnamed slots forming one more group', () => {
    const net = new Network(4, { loss: 0, delayMs: 1, jitterMs: 0, dup: 0 });
    for (const [a, b] of groupsLinks([[0]], 4)) net.block(a, b);
    expect(net.isBlocked(0, 1) && net.isBlocked(1, 0)).toBe(true);
    expect(net.isBlocked(1, 2) || net.isBlocked(2, 3)).toBe(false);
    expect(components([0, 1, 2, 3], net, 'mutual').count).toBe(2);
  });

  it('one-way links make a weak but not a mutual component', () => {
    const net = new Network(2, { loss: 0, delayMs: 1, jitterMs: 0, dup: 0 });
    for (const [a, b] of oneWayLinks([0], [1])) net.block(a, b);
    expect(net.isBlocked(0, 1)).toBe(true);
    expect(net.isBlocked(1, 0)).toBe(false);
    expect(components([0, 1], net, 'weak').count).toBe(1);
    expect(components([0, 1], net, 'mutual').count).toBe(2);
  });

  it('a bridge keeps one component; a ring of five with reach 1 hears two neighbours', () => {
    const net = new Network(3, { loss: 0, delayMs: 1, jitterMs: 0, dup: 0 });
    for (const [a, b] of cutLinks([[0, 2]])) net.block(a, b);
    expect(components([0, 1, 2], net, 'mutual').count).toBe(1);
    const ring = ringLinks(5, 1);
    const blockedFrom0 = ring.filter(([a]) => a === 0).map(([, b]) => b);
    expect(blockedFrom0.sort()).toEqual([2, 3]);
  });

  it('loss and duplication are drawn per copy', () => {
    const rng = new Prng(5);
    const net = new Network(2, { loss: 0.3, delayMs: 10, jitterMs: 5, dup: 0.2 });
    const out: number[] = [];
    let copies = 0;
    const tries = 20_000;
    for (let i = 0; i < tries; i++) {
      net.delays(0, 1, rng, out);
      copies += out.length;
      for (const d of out) expect(d >= 10 && d < 15).toBe(true);
    }
    // expected copies per packet: (1 + 0.2) * 0.7 = 0.84
    expect(copies / tries).toBeGreaterThan(0.81);
    expect(copies / tries).toBeLessThan(0.87);
  });
});

describe('prng and queue', () => {
  it('a seed names a sequence; uuids are canonical v4 text', () => {
    const a = new Prng(42);
    const b = new Prng(42);
    const xs = Array.from({ length: 5 }, () => a.u32());
    expect(Array.from({ length: 5 }, () => b.u32())).toEqual(xs);
    expect(new Prng(43).u32()).not.toBe(xs[0]);
    expect(a.uuid()).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    for (let i = 0; i < 1000; i++) {
      const f = a.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
  });

  it('events come out by time, ties in insertion order', () => {
    const q = new EventQueue<string>();
    const rng = new Prng(1);
    const pushed: { at: number; id: string }[] = [];
    for (let i = 0; i < 500; i++) {
      const at = rng.int(20);
      pushed.push({ at, id: `e${i}` });
      q.push(at, `e${i}`);
    }
    const expected = [...pushed].sort((x, y) => x.at - y.at).map((x) => x.id); // stable sort
    const got: string[] = [];
    for (let e = q.pop(); e; e = q.pop()) got.push(e.item);
    expect(got).toEqual(expected);
  });

  it('pushes and pops interleaved keep that order, across growth', () => {
    const q = new EventQueue<number>();
    const rng = new Prng(2);
    // the reference: pending events kept sorted by (time, insertion)
    const pending: { at: number; id: number }[] = [];
    let id = 0;
    for (let step = 0; step < 5000; step++) {
      if (pending.length === 0 || rng.float() < 0.55) {
        const at = rng.int(50);
        q.push(at, id);
        pending.push({ at, id: id++ });
        pending.sort((x, y) => x.at - y.at || x.id - y.id);
      } else {
        const want = pending.shift()!;
        expect(q.peekTime()).toBe(want.at);
        expect(q.peekItem()).toBe(want.id);
        expect(q.popItem()).toBe(want.id);
      }
      expect(q.size).toBe(pending.length);
    }
    expect(q.size).toBeGreaterThan(16);
  });
});
