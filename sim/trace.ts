/**
 * What a run records. Every record is hashed as it happens (sha256 over a canonical line per
 * record), so two runs are the same run exactly when their hashes match, without keeping the
 * whole trace in memory at scale.
 */
import { createHash, type Hash } from 'node:crypto';
import type { HookEvent } from '../src/legion/types.js';

export type NodeStatus = 'up' | 'paused' | 'down' | 'stopped';

export type TraceRecord =
  /** a node incarnation started (first start or restart: new uuid) */
  | { t: number; kind: 'start'; slot: number; uuid: string; valor: bigint; epoch: bigint }
  | { t: number; kind: 'status'; slot: number; uuid: string; status: NodeStatus; why: string }
  /** a hook event the core emitted */
  | {
      t: number;
      kind: 'event';
      slot: number;
      uuid: string;
      event: HookEvent;
      epoch: bigint;
      lord: string | null;
      member: string | null;
      reason: string | null;
    }
  /** the lord flag (and its epoch) the node puts on the wire changed */
  | { t: number; kind: 'claim'; slot: number; uuid: string; lord: boolean; epoch: bigint }
  /** whom the node considers lord changed (only when views are tracked) */
  | { t: number; kind: 'view'; slot: number; uuid: string; lord: string | null }
  /**
   * a virtual process started or exited (sim/spawner.ts). `uuid`: the legiond that started it
   * (which may be gone by its exit); `work`: hook-<event>, daemon or cron; `epoch`: its
   * LEGION_EPOCH; `how`: at an exit, `exit N` or the signal, `, timed out` when legiond's
   * timeout killed it; `ranMs`: at an exit, how long it ran
   */
  | {
      t: number;
      kind: 'proc';
      slot: number;
      uuid: string;
      pid: number;
      work: string;
      epoch: bigint;
      op: 'start' | 'exit';
      how: string;
      ranMs: number;
    }
  /** a timeline action (or its scheduled follow-up) fired; `text` says what it did */
  | { t: number; kind: 'fault'; action: string; slots: number[]; text: string }
  /** something the harness wants on the record that is not a state change (a skipped fault, a hold timeout) */
  | { t: number; kind: 'note'; slot: number | null; text: string };

export type TraceListener = (r: TraceRecord) => void;

export function recordLine(r: TraceRecord): string {
  return JSON.stringify(r, (_k, v) => (typeof v === 'bigint' ? `${v}n` : v));
}

/**
 * What `Object.values(r).join('\t')` gives for the record a node event makes (sim/host.ts), field
 * for field and with null as empty, without an array per record: a legion of 1000 forming makes
 * a million of them.
 */
function eventLine(r: Extract<TraceRecord, { kind: 'event' }>): string {
  return `${r.t}\t${r.kind}\t${r.slot}\t${r.uuid}\t${r.event}\t${r.epoch}\t${r.lord ?? ''}\t${r.member ?? ''}\t${r.reason ?? ''}`;
}

/**
 * The run's identity: sha256 over every record's fields in order. Records are joined by hand
 * and hashed in chunks, since a JSON line with a bigint replacer per record was a tenth of a
 * thousand-node run (a million node events as the legion forms).
 */
export class TraceHasher {
  private readonly hash: Hash = createHash('sha256');
  private pending = '';
  count = 0;

  add(r: TraceRecord): void {
    this.pending += `${r.kind === 'event' ? eventLine(r) : Object.values(r).join('\t')}\n`;
    if (this.pending.length > 1 << 16) this.flush();
    this.count++;
  }

  digest(): string {
    this.flush();
    return this.hash.copy().digest('hex');
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.hash.update(this.pending);
    this.pending = '';
  }
}
