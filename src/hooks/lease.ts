/**
 * The lease that lord-only work runs under, as the shell hands it to the hook side.
 *
 * The core computes it (Machine.workLease); the runner publishes every change. Two questions are
 * kept apart because they have different answers during a hand-over:
 * - `fenceAtMs`: the monotonic instant by which every lord-only process of this node must be gone,
 *   because after it another node may have been elected. It holds as long as this node's
 *   announces still claim the title (a releasing lord keeps claiming until its work is stopped).
 * - `mayStart`: whether new work (a cron run, a daemon start or restart) may begin now: a lord
 *   whose lord event went out, not releasing, with a fresh lease and no recent stall.
 */
export interface WorkLease {
  /** the epoch of the lordship this lease belongs to */
  readonly epoch: bigint;
  /** monotonic ms: every lord-only process is killed by then */
  readonly fenceAtMs: number;
  readonly mayStart: boolean;
}

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
  return lease !== null && lease.mayStart && now + marginMs < lease.fenceAtMs;
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
