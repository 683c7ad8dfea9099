/**
 * "Exactly one" (README: what lord-only work can rely on), checked from the trace's `proc`
 * records across all nodes: at no instant do two nodes run lord-only work. A workload is
 * - an attached daemon's process, from its start to its exit;
 * - a cron run, likewise;
 * - the span from a lord hook's start to the end of the matching unlord hook of the same legiond.
 *   A span whose legiond crashes ends at the crash: no unlord hook can run any more, and what the
 *   lord hook left behind is the README's "side effects that outlive a hook".
 *
 * Findings, each at the instant a workload starts while another node's runs:
 * - `work-overlap` (lord-only work overlaps): two workloads of different nodes (legiond
 *   incarnations) at once;
 * - `work-epoch` (workload epochs not increasing): a workload whose LEGION_EPOCH is below an
 *   earlier one's, or equal to another node's.
 * They are violations with a majority quorum and a protocol that fences with epochs. They are
 * notes without those (both sides of a partition may elect), and, for overlaps, where nothing
 * fences the workload:
 * - a workload whose whole host was frozen while it ran: the guard was frozen too (README);
 * - a span whose unlord hook could not be sequenced with the successor: its legiond was paused
 *   while it ran (a stopped legiond runs no unlord hook), or its packets do not reach the
 *   successor (a partition, one-way or not: the successor cannot wait for a claim or a release it
 *   does not hear, and a lord that lost its lease runs its unlord hook after the fence). The guard
 *   fences processes, not what a lord hook did; lord_delay is what covers such an unlord hook. The
 *   README's exception for a killed legiond is the same case.
 */
import type { Violation } from './checker.js';
import { type EpisodeStats, EpisodeTracker } from './metrics.js';
import type { TraceRecord } from './trace.js';

export type Workload = 'daemon' | 'cron' | 'lord';

interface Interval {
  what: Workload;
  slot: number;
  uuid: string;
  /** the process (a span: its lord hook's) */
  pid: number;
  epoch: bigint;
  fromMs: number;
  /** its host was frozen while it ran */
  frozen: boolean;
  /** a span whose legiond was paused while it ran */
  paused: boolean;
}

export interface WorkReport {
  /** workloads started, by kind */
  started: Record<Workload, number>;
  /** time during which workloads of two or more nodes ran */
  overlap: EpisodeStats;
}

export class WorkChecker {
  private readonly open: Interval[] = [];
  private readonly started: Record<Workload, number> = { daemon: 0, cron: 0, lord: 0 };
  private readonly overlap = new EpisodeTracker();
  private readonly frozen = new Set<number>();
  private maxEpoch = -1n;
  private maxEpochUuid = '';

  /**
   * `strict`: findings are violations (majority quorum, epochs that fence); `flag` reports one;
   * `name` names a slot; `reaches(a, b)`: whether packets from slot a reach slot b now;
   * `unlordHook(slot)`: whether that node has an unlord hook to end a span (without one, a lord
   * hook starts no span).
   */
  constructor(
    private readonly strict: boolean,
    private readonly flag: (v: Violation, strict: boolean) => void,
    private readonly name: (slot: number) => string,
    private readonly reaches: (from: number, to: number) => boolean,
    private readonly unlordHook: (slot: number) => boolean,
  ) {}

  readonly listener = (r: TraceRecord): void => {
    if (r.kind === 'proc') this.onProc(r);
    else if (r.kind === 'status') this.onStatus(r);
  };

  finish(endMs: number): void {
    this.overlap.close(endMs);
  }

  report(): WorkReport {
    return { started: { ...this.started }, overlap: this.overlap.stats };
  }

  private onProc(r: Extract<TraceRecord, { kind: 'proc' }>): void {
    const w = r.work;
    if (w === 'daemon' || w === 'cron') {
      if (r.op === 'start') this.begin(r, w);
      else this.end(r.t, (o) => o.what === w && o.slot === r.slot && o.pid === r.pid);
    } else if (w === 'hook-lord' && r.op === 'start') {
      if (this.unlordHook(r.slot) && !this.open.some((o) => o.what === 'lord' && o.uuid === r.uuid))
        this.begin(r, 'lord');
    } else if (w === 'hook-unlord' && r.op === 'exit') {
      this.end(r.t, (o) => o.what === 'lord' && o.uuid === r.uuid);
    }
  }

  private onStatus(r: Extract<TraceRecord, { kind: 'status' }>): void {
    if (r.status === 'down') {
      // the span of a legiond that dies ends here; its processes run on (the guard ends them)
      this.end(r.t, (o) => o.what === 'lord' && o.uuid === r.uuid);
    } else if (r.status === 'paused') {
      const host = r.why === 'freeze';
      if (host) this.frozen.add(r.slot);
      for (const o of this.open) {
        if (o.slot !== r.slot) continue;
        if (host) o.frozen = true;
        if (o.what === 'lord' && o.uuid === r.uuid) o.paused = true;
      }
    } else if (r.status === 'up') {
      this.frozen.delete(r.slot);
    }
  }

  private begin(r: Extract<TraceRecord, { kind: 'proc' }>, what: Workload): void {
    const iv: Interval = {
      what,
      slot: r.slot,
      uuid: r.uuid,
      pid: r.pid,
      epoch: r.epoch,
      fromMs: r.t,
      frozen: this.frozen.has(r.slot),
      paused: false,
    };
    this.started[what]++;
    for (const o of this.open) {
      if (o.uuid === iv.uuid) continue;
      const why = this.unfenced(o, iv);
      this.flag(
        {
          atMs: r.t,
          kind: 'work-overlap',
          node: this.name(iv.slot),
          text: `lord-only work overlaps: ${this.describe(iv)} starts while ${this.describe(o)} runs${why ? ` (${why})` : ''}`,
        },
        this.strict && why === null,
      );
    }
    if (iv.epoch < this.maxEpoch || (iv.epoch === this.maxEpoch && iv.uuid !== this.maxEpochUuid)) {
      this.flag(
        {
          atMs: r.t,
          kind: 'work-epoch',
          node: this.name(iv.slot),
          text: `workload epochs not increasing: ${this.describe(iv)} after work at epoch ${this.maxEpoch}`,
        },
        this.strict,
      );
    }
    if (iv.epoch > this.maxEpoch) {
      this.maxEpoch = iv.epoch;
      this.maxEpochUuid = iv.uuid;
    }
    this.open.push(iv);
    this.track(r.t);
  }

  /** why nothing could keep `o` and `iv` apart (see the module comment), or null */
  private unfenced(o: Interval, iv: Interval): string | null {
    if (o.frozen || iv.frozen) return 'a host was frozen';
    if (o.what !== 'lord') return null;
    if (o.paused) return 'its legiond was paused: no unlord hook runs while it is stopped';
    if (!this.reaches(o.slot, iv.slot))
      return `its packets do not reach ${this.name(iv.slot)}: the hand-over cannot be sequenced`;
    return null;
  }

  private end(t: number, which: (o: Interval) => boolean): void {
    const i = this.open.findIndex(which);
    if (i < 0) return;
    this.open.splice(i, 1);
    this.track(t);
  }

  private track(t: number): void {
    const nodes = new Set(this.open.map((o) => o.uuid));
    const names = nodes.size >= 2 ? [...new Set(this.open.map((o) => this.name(o.slot)))] : [];
    this.overlap.update(t, nodes.size >= 2, names);
  }

  private describe(o: Interval): string {
    const what = o.what === 'lord' ? 'lord hook span' : o.what === 'cron' ? 'cron run' : 'daemon';
    return `${this.name(o.slot)} ${what} (pid ${o.pid}, epoch ${o.epoch})`;
  }
}
