/**
 * Each node's lordship and status as the trace has told them so far. Observers (checker, metrics)
 * read these instead of the live nodes: with windowed scheduling (sim/window.ts) records reach
 * them after a batch of nodes has run ahead, so the live state may already be later than the
 * record in hand, while this one is always exactly as of it.
 */
import type { NodeStatus, TraceRecord } from './trace.js';

export interface ObservedNode {
  readonly slot: number;
  lord: boolean;
  lordEpoch: bigint;
  status: NodeStatus;
}

export class Observed {
  readonly nodes: ObservedNode[];

  constructor(size: number) {
    this.nodes = Array.from({ length: size }, (_, slot) => ({
      slot,
      lord: false,
      lordEpoch: 0n,
      status: 'down' as NodeStatus,
    }));
  }

  update(r: TraceRecord): void {
    switch (r.kind) {
      case 'start': {
        const n = this.nodes[r.slot]!;
        n.status = 'up';
        n.lord = false;
        n.lordEpoch = 0n;
        return;
      }
      case 'status':
        this.nodes[r.slot]!.status = r.status;
        return;
      case 'claim': {
        const n = this.nodes[r.slot]!;
        n.lord = r.lord;
        n.lordEpoch = r.lord ? r.epoch : 0n;
        return;
      }
    }
  }
}

export function isAlive(n: ObservedNode): boolean {
  return n.status === 'up' || n.status === 'paused';
}
