/**
 * Invariants that must hold in every run, checked online from trace records:
 * - hook order per node incarnation: setup, join?, (lord unlord)*, lord?, death? — with lord and
 *   unlord alternating, nothing before setup and nothing after death (a lord unlords before death);
 * - epochs strictly increase across one node's lord events (across restarts too when epochs persist);
 * - with quorum > N/2: every lord event's epoch exceeds every earlier one's, and no two lords ever
 *   claim the same epoch at once.
 * - lease safety (lease-check.ts): no lord outlives its lease once fewer than Q nodes can reach it.
 * - exactly one (work-checker.ts): no two nodes run lord-only work at once, and the epochs that
 *   work runs under increase.
 * - an observer never claims the title, and the lease check never counts it as a voter.
 * Without a majority quorum the epoch rules can fail by design (both sides of a partition elect);
 * they are then reported as notes, not violations. So they are under `protocol: uwsgi`: uWSGI
 * carries no epoch, and each node's epoch counts the lord changes it saw itself.
 */
import { LeaseCheck } from './lease-check.js';
import { isAlive } from './observed.js';
import type { TraceRecord } from './trace.js';
import { hookEvents } from './work.js';
import { WorkChecker } from './work-checker.js';
import type { Simulation } from './world.js';

export interface Violation {
  atMs: number;
  kind:
    | 'hook-order'
    | 'epoch-node'
    | 'epoch-global'
    | 'same-epoch'
    | 'lease'
    | 'work-overlap'
    | 'work-epoch'
    | 'observer-lord';
  node: string | null;
  text: string;
}

interface HookState {
  setup: boolean;
  joined: boolean;
  lordSeen: boolean;
  lord: boolean;
  dead: boolean;
}

const MAX_KEPT = 200;

export class Checker<S> {
  readonly violations: Violation[] = [];
  readonly notes: Violation[] = [];
  violationCount = 0;
  noteCount = 0;
  private readonly hooks = new Map<string, HookState>();
  private readonly lastEpoch = new Map<string, bigint>();
  private maxLordEpoch = -1n;
  private readonly majority: boolean;
  private readonly lease: LeaseCheck<S>;
  /** lord-only work across the legion */
  readonly work: WorkChecker;

  constructor(private readonly sim: Simulation<S>) {
    // observers never vote: the majority is of the nodes that do
    const voters = sim.scenario.nodes.filter((n) => !n.observer).length;
    this.majority = sim.protocol.fencing && sim.scenario.quorum * 2 > voters;
    this.lease = new LeaseCheck(sim, (v) => this.flag(v, true));
    this.work = new WorkChecker(
      this.majority,
      (v, strict) => this.flag(v, strict),
      (slot) => this.name(slot),
      (from, to) => !sim.network.isBlocked(from, to),
      (slot) => {
        const n = sim.nodes[slot];
        return n !== undefined && hookEvents(n.hooks).includes('unlord');
      },
    );
  }

  /** closes what is still open at the end of the run (a lord past its lease until the end) */
  finish(endMs: number): void {
    this.lease.finish(endMs);
    this.work.finish(endMs);
  }

  get ok(): boolean {
    return this.violationCount === 0;
  }

  private flag(v: Violation, strict: boolean): void {
    if (strict) {
      this.violationCount++;
      if (this.violations.length < MAX_KEPT) this.violations.push(v);
    } else {
      this.noteCount++;
      if (this.notes.length < MAX_KEPT) this.notes.push(v);
    }
  }

  readonly listener = (r: TraceRecord): void => {
    this.lease.listener(r);
    if (r.kind === 'event') this.onEvent(r);
    else if (r.kind === 'claim') {
      if (r.lord) this.onClaim(r);
    } else this.work.listener(r);
  };

  private name(slot: number): string {
    return this.sim.nodes[slot]?.name ?? `#${slot}`;
  }

  private onEvent(r: Extract<TraceRecord, { kind: 'event' }>): void {
    let h = this.hooks.get(r.uuid);
    if (!h) {
      h = { setup: false, joined: false, lordSeen: false, lord: false, dead: false };
      this.hooks.set(r.uuid, h);
    }
    const bad = (why: string) =>
      this.flag({ atMs: r.t, kind: 'hook-order', node: this.name(r.slot), text: `${r.event}: ${why}` }, true);
    if (h.dead) {
      bad('after death');
      return;
    }
    if (r.event !== 'setup' && !h.setup) {
      bad('before setup');
      return;
    }
    switch (r.event) {
      case 'setup':
        if (h.setup) {
          bad('twice');
          return;
        }
        h.setup = true;
        return;
      case 'join':
        if (h.joined) {
          bad('twice');
          return;
        }
        if (h.lordSeen) {
          bad('after a lord event');
          return;
        }
        h.joined = true;
        return;
      case 'lord':
        if (h.lord) {
          bad('while already lord');
          return;
        }
        h.lord = true;
        h.lordSeen = true;
        this.onLordEvent(r);
        return;
      case 'unlord':
        if (!h.lord) {
          bad('without a lord event before it');
          return;
        }
        h.lord = false;
        return;
      case 'death':
        if (h.lord) {
          bad('while lord (no unlord first)');
          return;
        }
        h.dead = true;
        return;
      default:
        return;
    }
  }

  private onLordEvent(r: Extract<TraceRecord, { kind: 'event' }>): void {
    const key = this.sim.scenario.persistEpoch ? `slot:${r.slot}` : r.uuid;
    const last = this.lastEpoch.get(key);
    if (last !== undefined && r.epoch <= last) {
      this.flag(
        {
          atMs: r.t,
          kind: 'epoch-node',
          node: this.name(r.slot),
          text: `lord at epoch ${r.epoch} after ${last}`,
        },
        true,
      );
    }
    this.lastEpoch.set(key, r.epoch);
    if (r.epoch <= this.maxLordEpoch) {
      this.flag(
        {
          atMs: r.t,
          kind: 'epoch-global',
          node: this.name(r.slot),
          text: `lord at epoch ${r.epoch}, an earlier lord event had ${this.maxLordEpoch}`,
        },
        this.majority,
      );
    }
    if (r.epoch > this.maxLordEpoch) this.maxLordEpoch = r.epoch;
  }

  private onClaim(r: Extract<TraceRecord, { kind: 'claim' }>): void {
    if (this.sim.nodes[r.slot]?.observer) {
      const name = this.name(r.slot);
      this.flag(
        { atMs: r.t, kind: 'observer-lord', node: name, text: `observer ${name} claimed the title` },
        true,
      );
    }
    for (const n of this.sim.observed.nodes) {
      if (n.slot === r.slot || !isAlive(n) || !n.lord || n.lordEpoch !== r.epoch) continue;
      this.flag(
        {
          atMs: r.t,
          kind: 'same-epoch',
          node: this.name(r.slot),
          text: `${this.name(r.slot)} and ${this.name(n.slot)} both lord at epoch ${r.epoch}`,
        },
        this.majority,
      );
    }
  }
}
