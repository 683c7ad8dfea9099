/**
 * What a strong-mode legion needs from a distributed engine (etcd, PostgreSQL): a registry of
 * live candidates, and one title granted atomically with a strictly increasing fencing token.
 * Each backend implements EngineClient with its own client library; the legion's logic (who
 * should be lord, when to step down, the fence of lord-only work) stays out of the clients, so
 * both backends behave the same and the logic can be tested without a server.
 *
 * Times: `ttlMs` is judged by the engine (etcd's lease TTL, PostgreSQL's server clock). A caller
 * that must stop before the engine can grant the title to someone else reckons from the instant
 * it *sent* the request that succeeded, on its own monotonic clock: sentAt + ttlMs - margin.
 */

/** A candidate as registered in the engine. */
export interface EngineCandidate {
  readonly uuid: string;
  readonly name: string;
  /** effective valor (0 for arbiters and observers, which never stand) */
  readonly valor: bigint;
  readonly scroll: Uint8Array;
  /** arbiter or observer: registered for membership, never granted the title */
  readonly standing: boolean;
}

/** The title as the engine holds it. */
export interface EngineTitle {
  readonly uuid: string;
  /** the engine's fencing token for this grant: strictly increasing over every grant of the legion */
  readonly epoch: bigint;
}

export interface EngineSnapshot {
  /** live registrations (TTL not expired), in no particular order */
  readonly candidates: readonly EngineCandidate[];
  readonly title: EngineTitle | null;
}

export type AcquireResult =
  | { readonly ok: true; readonly epoch: bigint }
  | { readonly ok: false; readonly holder: EngineTitle | null };

export interface EngineClient {
  /** create or refresh this node's registration, alive for `ttlMs` after the engine applies it */
  register(me: EngineCandidate, ttlMs: number): Promise<void>;
  /** remove this node's registration (clean shutdown) */
  unregister(uuid: string): Promise<void>;
  /**
   * Take the title if nobody holds it, in one engine transaction that also advances the fencing
   * token. Holding it already is a failure naming this node: renew instead.
   */
  acquire(uuid: string, ttlMs: number): Promise<AcquireResult>;
  /** extend the grant `epoch` held by `uuid`; false when the engine no longer has it so */
  renew(uuid: string, epoch: bigint, ttlMs: number): Promise<boolean>;
  /** give the title up, only if the engine still has it as `uuid` at `epoch` */
  release(uuid: string, epoch: bigint): Promise<void>;
  snapshot(): Promise<EngineSnapshot>;
  /**
   * Calls `changed` soon after any registration or the title changes (etcd watch, PostgreSQL
   * LISTEN/NOTIFY), so a clean hand-over takes a round trip, not a poll. Returns an unsubscribe.
   */
  watch(changed: () => void): () => void;
  close(): Promise<void>;
}
