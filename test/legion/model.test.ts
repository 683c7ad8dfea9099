/**
 * One node against a reference model of who should be lord, driven by synthetic peer announces,
 * deaths, attestations, valor changes, stepdowns and the passage of time (quorum 1, immediate
 * preemption, no lord delay: the lord is the best live candidate once the startup grace is over,
 * and a node takes the title only while no live peer claims it; the shell answers every release
 * at once, as one with no hooks does).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareCandidates } from '../../src/legion/peers.js';
import { announce, Node, params, uuidOf } from './helpers.js';

const SELF = uuidOf(100);
const PEERS = [uuidOf(50), uuidOf(150), uuidOf(200)];
const INTERVAL = 100;
const TOLERANCE = 400;
const GRACE = 150;

interface ModelPeer {
  valor: bigint;
  draining: boolean;
  heard: number;
  lord: boolean;
}

class Model {
  now = 0;
  valor = 10n;
  drainingUntil = 0;
  lord = false;
  peers = new Map<string, ModelPeer>();

  expire(): void {
    for (const [u, p] of this.peers) if (this.now - p.heard > TOLERANCE) this.peers.delete(u);
  }

  selfLord(): boolean {
    if (this.now < GRACE || this.valor === 0n || this.now < this.drainingUntil) return false;
    const me = { valor: this.valor, uuid: SELF };
    for (const [uuid, p] of this.peers) {
      if (p.valor > 0n && !p.draining && compareCandidates({ valor: p.valor, uuid }, me) > 0) return false;
    }
    return true;
  }

  /** a sitting lord holds while it is best; a new one needs the title unclaimed */
  update(): boolean {
    const best = this.selfLord();
    this.lord = this.lord ? best : best && ![...this.peers.values()].some((p) => p.lord);
    return this.lord;
  }
}

interface Real {
  node: Node;
  lordEvents: number;
  unlordEvents: number;
  lastEpoch: bigint;
}

type Cmd = fc.Command<Model, Real>;

function check(m: Model, r: Real): void {
  m.expire();
  const n = r.node;
  expect([...n.state.peers.keys()].sort()).toEqual([...m.peers.keys()].sort());
  expect(n.lord).toBe(m.update());
  expect(n.wakeAt).toBeGreaterThan(n.now);
  // lord and unlord events alternate, starting with lord.
  const lords = n.effects.filter((e) => e.type === 'event' && e.event.type === 'lord').length;
  const unlords = n.effects.filter((e) => e.type === 'event' && e.event.type === 'unlord').length;
  expect(lords - unlords).toBe(n.lord ? 1 : 0);
  // Each new lordship takes a strictly larger epoch.
  if (lords > r.lordEvents) {
    expect(n.state.lordEpoch).toBeGreaterThan(r.lastEpoch);
    r.lastEpoch = n.state.lordEpoch;
  }
  r.lordEvents = lords;
  r.unlordEvents = unlords;
}

class Advance implements Cmd {
  constructor(readonly ms: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.now += this.ms;
    r.node.advance(this.ms);
    check(m, r);
  }
  toString = () => `advance(${this.ms})`;
}

class PeerSays implements Cmd {
  constructor(
    readonly i: number,
    readonly valor: bigint,
    readonly draining: boolean,
    readonly lord: boolean,
    readonly attest: { j: number; agoMs: number } | null,
  ) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.expire();
    const uuid = PEERS[this.i]!;
    m.peers.set(uuid, { valor: this.valor, draining: this.draining, heard: m.now, lord: this.lord });
    const seen = [];
    if (this.attest) {
      const target = this.attest.j === -1 ? SELF : PEERS[this.attest.j]!;
      seen.push({ uuid: target, agoMs: this.attest.agoMs });
      const p = m.peers.get(target);
      if (p && target !== uuid) p.heard = Math.max(p.heard, m.now - this.attest.agoMs);
    }
    r.node.packet(
      announce(uuid, { valor: this.valor, flags: { draining: this.draining, lord: this.lord }, seen }),
    );
    check(m, r);
  }
  toString = () =>
    `peer${this.i}(${this.valor},d=${this.draining},l=${this.lord},att=${JSON.stringify(this.attest)})`;
}

class PeerDies implements Cmd {
  constructor(readonly i: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.expire();
    const uuid = PEERS[this.i]!;
    m.peers.delete(uuid);
    r.node.packet(announce(uuid, { flags: { dead: true } }));
    check(m, r);
  }
  toString = () => `dies(${this.i})`;
}

class SetValor implements Cmd {
  constructor(readonly valor: bigint) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.valor = this.valor;
    r.node.command({ type: 'set-valor', valor: this.valor });
    check(m, r);
  }
  toString = () => `setValor(${this.valor})`;
}

class StepDown implements Cmd {
  constructor(readonly forMs: number) {}
  check = () => true;
  run(m: Model, r: Real): void {
    m.drainingUntil = m.now + this.forMs;
    // a stepdown releases the title whatever its length; taking it back needs it unclaimed
    m.lord = false;
    r.node.command({ type: 'stepdown', forMs: this.forMs });
    // The shell answers at once: the hooks queued before had nothing to do.
    if (r.node.state.phase === 'releasing') r.node.input({ type: 'hooks-drained' });
    check(m, r);
  }
  toString = () => `stepdown(${this.forMs})`;
}

class Cancel implements Cmd {
  check = () => true;
  run(m: Model, r: Real): void {
    m.drainingUntil = 0;
    r.node.command({ type: 'stepdown-cancel' });
    check(m, r);
  }
  toString = () => 'cancel';
}

const valor = fc.bigInt({ min: 0n, max: 12n });
const commands = [
  fc.integer({ min: 1, max: 300 }).map((ms) => new Advance(ms)),
  fc
    .record({
      i: fc.integer({ min: 0, max: 2 }),
      valor,
      draining: fc.boolean(),
      lord: fc.boolean(),
      attest: fc.option(
        fc.record({ j: fc.integer({ min: -1, max: 2 }), agoMs: fc.integer({ min: 0, max: 200 }) }),
        {
          freq: 4,
        },
      ),
    })
    .map((p) => new PeerSays(p.i, p.valor, p.draining, p.lord, p.attest)),
  fc.integer({ min: 0, max: 2 }).map((i) => new PeerDies(i)),
  valor.map((v) => new SetValor(v)),
  fc.integer({ min: 0, max: 800 }).map((ms) => new StepDown(ms)),
  fc.constant(new Cancel()),
];

describe('one node against a reference model', () => {
  it('is lord exactly when the model says so', () => {
    fc.assert(
      fc.property(fc.commands(commands, { maxCommands: 80, size: 'large' }), fc.integer(), (cmds, seed) => {
        const node = new Node(
          params({ uuid: SELF, valor: 10n, intervalMs: INTERVAL, toleranceMs: TOLERANCE, jitter: 0.3 }),
          seed,
        );
        node.autoDrain = true;
        node.start();
        fc.modelRun(
          () => ({ model: new Model(), real: { node, lordEvents: 0, unlordEvents: 0, lastEpoch: 0n } }),
          cmds,
        );
      }),
      { numRuns: 300 },
    );
  });
});
