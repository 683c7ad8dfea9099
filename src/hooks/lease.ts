/**
 * The lease that lord-only work runs under, as the shell hands it to the hook side. The core
 * computes it (Machine.workLease, see WorkLease for what its fields mean); the shell publishes
 * every change, with its safety margin already taken off `fenceAtMs`.
 */
import type { WorkLease } from '../legion/types.js';

export type { WorkLease };

/** Read side of the lease for cron, attached daemons and their guards. */
export interface LeaseSource {
  /** the current lease, or null when this node claims no lordship */
  current(): WorkLease | null;
  /** monotonic ms on the same clock as `fenceAtMs` */
  now(): number;
  /** called after every change of the lease (renewals included); returns the unsubscribe */
  subscribe(listener: (lease: WorkLease | null) => void): () => void;
}

/** Whether new work may start under `lease` at `now`, leaving `marginMs` before the fence. */
export function mayStartUnder(lease: WorkLease | null, now: number, marginMs: number): lease is WorkLease {
  return lease?.mayStart === true && now + marginMs < lease.fenceAtMs;
}

/** A LeaseSource the shell feeds: `set` after every step of the core. */
export class LeaseCell implements LeaseSource {
  private lease: WorkLease | null = null;
  private readonly listeners = new Set<(lease: WorkLease | null) => void>();

  constructor(private readonly clock: () => number) {}

  current(): WorkLease | null {
    return this.lease;
  }

  now(): number {
    return this.clock();
  }

  set(next: WorkLease | null): void {
    const prev = this.lease;
    if (
      prev === next ||
      (prev !== null &&
        next !== null &&
        prev.epoch === next.epoch &&
        prev.fenceAtMs === next.fenceAtMs &&
        prev.mayStart === next.mayStart)
    )
      return;
    this.lease = next;
    for (const l of this.listeners) l(next);
  }

  subscribe(listener: (lease: WorkLease | null) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
