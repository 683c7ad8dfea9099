/**
 * The strong-mode core on virtual time against a model engine: one lease per node (its
 * registration and its title go together when it expires), the title created only when absent
 * with the next revision as its token, a watch that tells every reachable node of each change.
 * Each node's link to the engine can be cut or slowed, a node can crash or pause; `check` runs
 * after every event and records any instant at which two nodes' lord-only work could both run
 * (a work lease whose fence has not passed).
 */
import type { EngineCandidate, EngineTitle } from '../../src/engine/types.js';
import { engineMachine } from '../../src/legion/engine/machine.js';
import type {
  EngineMessage,
  EngineParams,
  EngineRequest,
  EngineState,
  ReplyValue,
} from '../../src/legion/engine/types.js';
import type { Command, Input, LegionEvent } from '../../src/legion/types.js';

export interface ModelNode {
  uuid: string;
  state: EngineState;
  events: LegionEvent[];
  /** requests as the engine applied them, with the engine time */
  applied: { at: number; kind: EngineRequest['kind'] }[];
  cut: boolean;
  delayMs: number;
  crashed: boolean;
  pausedUntil: number;
  stopped: boolean;
  hooksMs: number;
  tickAt: number;
}

interface Timed {
  at: number;
  seq: number;
  run: () => void;
}

export class EngineModel {
  now = 0;
  revision = 100n;
  readonly leases = new Map<string, number>();
  readonly candidates = new Map<string, EngineCandidate>();
  title: EngineTitle | null = null;
  /** every grant: engine time, holder, token */
  readonly grants: { at: number; uuid: string; epoch: bigint }[] = [];
  readonly nodes = new Map<string, ModelNode>();
  readonly overlaps: string[] = [];
  private queue: Timed[] = [];
  private seq = 0;

  constructor(readonly ttlMs = 3000) {}

  params(uuid: string, valor: bigint, over: Partial<EngineParams> = {}): EngineParams {
    return {
      legion: 'web',
      uuid,
      name: `n-${uuid.slice(0, 4)}`,
      valor,
      quorum: 1,
      intervalMs: 250,
      toleranceMs: 1000,
      jitter: 0,
      preempt: true,
      preemptDelayMs: 0,
      lordDelayMs: 0,
      scroll: new Uint8Array(0),
      initialEpoch: 0n,
      engine: { ttlMs: this.ttlMs },
      ...over,
    };
  }

  add(p: EngineParams, o: { delayMs?: number; hooksMs?: number } = {}): ModelNode {
    const node: ModelNode = {
      uuid: p.uuid,
      state: engineMachine.init(p, { now: this.now, rand: () => 0.5 }),
      events: [],
      applied: [],
      cut: false,
      delayMs: o.delayMs ?? 2,
      crashed: false,
      pausedUntil: 0,
      stopped: false,
      hooksMs: o.hooksMs ?? 50,
      tickAt: Number.POSITIVE_INFINITY,
    };
    this.nodes.set(p.uuid, node);
    this.at(this.now, () => this.input(node, { type: 'start' }));
    return node;
  }

  command(uuid: string, command: Command): void {
    const n = this.nodes.get(uuid)!;
    this.at(this.now, () => this.input(n, { type: 'command', command }));
  }

  at(at: number, run: () => void): void {
    this.queue.push({ at, seq: this.seq++, run });
    this.queue.sort((a, b) => a.at - b.at || a.seq - b.seq);
  }

  runUntil(t: number): void {
    for (;;) {
      const next = this.queue[0];
      if (!next || next.at > t) break;
      this.queue.shift();
      this.now = next.at;
      this.expire();
      next.run();
      this.check();
    }
    this.now = t;
    this.expire();
  }

  run(ms: number): void {
    this.runUntil(this.now + ms);
  }

  lords(): ModelNode[] {
    return [...this.nodes.values()].filter((n) => !n.crashed && n.state.lord);
  }

  eventsOf(uuid: string, type: string): LegionEvent[] {
    return this.nodes.get(uuid)!.events.filter((e) => e.type === type);
  }

  /** removes the title by hand, as `etcdctl del` would */
  deleteTitle(): void {
    this.title = null;
    this.changed();
  }

  private input(n: ModelNode, input: Input<EngineMessage>): void {
    if (n.crashed || n.stopped) return;
    if (this.now < n.pausedUntil) {
      // a paused process takes its input when it wakes
      this.at(n.pausedUntil, () => this.input(n, input));
      return;
    }
    const r = engineMachine.step(n.state, input, { now: this.now, rand: () => 0.5 });
    n.state = r.state;
    for (const e of r.effects) {
      if (e.type === 'event') n.events.push(e.event);
      else if (e.type === 'send' && e.packet.dir === 'request') this.request(n, e.packet);
      else if (e.type === 'await-hooks')
        this.at(this.now + n.hooksMs, () => this.input(n, { type: 'hooks-drained' }));
      else if (e.type === 'stopped') n.stopped = true;
    }
    if (Number.isFinite(r.wakeAt) && r.wakeAt < n.tickAt) {
      n.tickAt = Math.max(r.wakeAt, this.now + 1);
      const at = n.tickAt;
      this.at(at, () => {
        if (n.tickAt !== at) return;
        n.tickAt = Number.POSITIVE_INFINITY;
        this.input(n, { type: 'tick' });
      });
    }
  }

  private request(n: ModelNode, req: EngineRequest): void {
    if (n.cut) return; // never arrives: the core times it out
    this.at(this.now + n.delayMs, () => {
      if (n.cut) return;
      const value = this.apply(n, req);
      n.applied.push({ at: this.now, kind: req.kind });
      this.at(this.now + n.delayMs, () => {
        if (!n.cut) this.input(n, { type: 'packet', packet: { dir: 'reply', id: req.id, ok: true, value } });
      });
    });
  }

  private apply(n: ModelNode, req: EngineRequest): ReplyValue {
    const alive = (this.leases.get(n.uuid) ?? -1) > this.now;
    switch (req.kind) {
      case 'register':
        this.leases.set(n.uuid, this.now + req.ttlMs);
        this.candidates.set(n.uuid, req.me);
        this.changed();
        return { kind: 'register' };
      case 'unregister':
        this.leases.delete(n.uuid);
        this.candidates.delete(n.uuid);
        if (this.title?.uuid === n.uuid) this.title = null;
        this.changed();
        return { kind: 'unregister' };
      case 'snapshot':
        return {
          kind: 'snapshot',
          snapshot: { candidates: [...this.candidates.values()], title: this.title },
        };
      case 'acquire': {
        if (!alive) throw new Error(`${n.uuid} acquires without a lease`);
        if (this.title !== null) return { kind: 'acquire', result: { ok: false, holder: this.title } };
        this.leases.set(n.uuid, this.now + req.ttlMs);
        this.revision++;
        this.title = { uuid: n.uuid, epoch: this.revision };
        this.grants.push({ at: this.now, uuid: n.uuid, epoch: this.revision });
        this.changed();
        return { kind: 'acquire', result: { ok: true, epoch: this.revision } };
      }
      case 'renew': {
        const held = alive && this.title?.uuid === n.uuid && this.title.epoch === req.epoch;
        if (held) this.leases.set(n.uuid, this.now + req.ttlMs);
        return { kind: 'renew', held };
      }
      case 'release':
        if (this.title?.uuid === n.uuid && this.title.epoch === req.epoch) {
          this.title = null;
          this.changed();
        }
        return { kind: 'release' };
    }
  }

  private expire(): void {
    let changed = false;
    for (const [uuid, until] of this.leases) {
      if (until > this.now) continue;
      this.leases.delete(uuid);
      this.candidates.delete(uuid);
      if (this.title?.uuid === uuid) this.title = null;
      changed = true;
    }
    if (changed) this.changed();
  }

  private changed(): void {
    for (const n of this.nodes.values()) {
      if (n.cut || n.crashed || n.stopped) continue;
      this.at(this.now + n.delayMs, () => {
        if (!n.cut) this.input(n, { type: 'packet', packet: { dir: 'changed' } });
      });
    }
  }

  /** the safety invariant: at most one node whose lord-only work may run at this instant */
  private check(): void {
    const working = [...this.nodes.values()].filter((n) => {
      const lease = engineMachine.workLease(n.state, this.now);
      return lease !== null && this.now < lease.fenceAtMs;
    });
    if (working.length > 1)
      this.overlaps.push(`${this.now}: ${working.map((n) => `${n.uuid}@${n.state.lordEpoch}`).join(', ')}`);
  }
}
