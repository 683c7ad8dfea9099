/**
 * The PostgreSQL engine: an EngineClient on node-postgres (`pg`, the ecosystem's client, with a
 * pool and LISTEN/NOTIFY; nothing hand-written speaks the wire protocol here).
 *
 * **A lease row, not an advisory lock.** The title is a row per legion whose `expires_at` is set
 * and judged by the server's clock (`clock_timestamp()`). A session advisory lock
 * (`pg_try_advisory_lock`) belongs to a connection: when the client dies or is cut off and its TCP
 * connection goes half-open, the server keeps the lock until its TCP keepalive notices (by
 * default `tcp_keepalives_idle` = 2 h on Linux), so nobody can take over; and when the server does
 * drop the session, the old holder learns of it only on its next round trip, with no bound it can
 * compute on its own. A lease row lapses by the server clock whatever the connection does, and
 * the holder knows the bound in advance (it reckons `sentAt + ttl` of its last successful renewal
 * on its own monotonic clock, which ends before the server's `applied + ttl`). Connections are
 * interchangeable, so a pool, a reconnect or a connection pooler changes nothing. The grant also
 * advances a counter in the same transaction: the epoch is the fencing token. The only advisory
 * lock is transaction-scoped and serializes the schema's DDL when several clients start at once.
 *
 * Every call is one statement with a deadline (`timeoutMs`): the client-side read timeout and an
 * overall race bound it on this side (a frozen server answers nothing, so a server-side
 * `statement_timeout` alone would not), and `statement_timeout`/`lock_timeout` bound it on the
 * server's. A call that times out may still have been applied: the next acquire then answers
 * "held by this node" with its epoch, and a renewal that lost its answer fails safe (the caller
 * steps down by its own clock).
 */
import { Socket } from 'node:net';
import type { ClientConfig, Pool, QueryResultRow } from 'pg';
import pg from 'pg';
import { LegiondError } from '../errors.js';
import { isCanonicalUuid } from '../protocol/uuid.js';
import { withDeadline } from './postgres-errors.js';
import { channelOf, SCHEMA_VERSION, schemaDdl, statements } from './postgres-sql.js';
import { ChannelWatcher } from './postgres-watch.js';
import type { AcquireResult, EngineCandidate, EngineClient, EngineSnapshot, EngineTitle } from './types.js';

export interface PostgresEngineOptions {
  legion: string;
  connectionString?: string;
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  ssl?: ClientConfig['ssl'];
  /** where the tables live (default `legiond`); created on first use */
  schema?: string;
  /** bound on every call, on the server's statement and lock timeouts, on connecting (default 2000) */
  timeoutMs?: number;
  /** pooled connections (default 2: calls of one node rarely overlap) */
  poolSize?: number;
  /** the watch connection's heartbeat period (default 5000), which catches a silent half-open connection */
  watchHeartbeatMs?: number;
  /** watch reconnect backoff (defaults 100 and 5000) */
  watchBackoffMinMs?: number;
  watchBackoffMaxMs?: number;
  /** [0, 1) for the backoff's jitter (default Math.random) */
  random?: () => number;
  /** told when the watch connection is lost or cannot be made; it reconnects by itself */
  onWatchError?: (e: Error) => void;
}

const SCHEMA_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;
// undefined_table, undefined_function, invalid_schema_name, undefined_object
const MISSING_OBJECT = new Set(['42P01', '42883', '3F000', '42704']);
const sqlState = (e: unknown): string | undefined => {
  const cause = e instanceof Error ? (e.cause as { code?: unknown } | undefined) : undefined;
  return typeof cause?.code === 'string' ? cause.code : undefined;
};
/** how long after the server's expiry the watchers look: its clock and ours tick apart by a hair */
const LAPSE_SLACK_MS = 5;
const U64_MAX = (1n << 64n) - 1n;

export class PostgresEngine implements EngineClient {
  readonly legion: string;
  readonly schema: string;
  readonly timeoutMs: number;
  /** `host:port/database`, for messages (never the password) */
  readonly where: string;
  private readonly pool: Pool;
  private readonly sql: ReturnType<typeof statements>;
  private readonly watcher: ChannelWatcher;
  private readonly sockets = new Set<Socket>();
  private schemaReady: Promise<void> | null = null;
  private lapse: NodeJS.Timeout | undefined;
  private writes: Promise<unknown> = Promise.resolve();
  private closed = false;

  constructor(o: PostgresEngineOptions) {
    if (o.legion === '') throw new LegiondError('ERR_CONFIG', 'PostgreSQL engine: the legion name is empty');
    const schema = o.schema ?? 'legiond';
    if (!SCHEMA_NAME.test(schema)) {
      throw new LegiondError(
        'ERR_CONFIG',
        `PostgreSQL engine: schema ${JSON.stringify(schema)} is not a plain identifier`,
      );
    }
    this.legion = o.legion;
    this.schema = schema;
    this.timeoutMs = o.timeoutMs ?? 2000;
    this.sql = statements(schema);
    const base: ClientConfig = {
      connectionString: o.connectionString,
      host: o.host,
      port: o.port,
      database: o.database,
      user: o.user,
      password: o.password,
      ssl: o.ssl,
      application_name: `legiond ${o.legion}`.slice(0, 63),
      connectionTimeoutMillis: this.timeoutMs,
      query_timeout: this.timeoutMs,
      statement_timeout: this.timeoutMs,
      lock_timeout: this.timeoutMs,
      idle_in_transaction_session_timeout: this.timeoutMs,
      keepAlive: true,
      // every socket is tracked so close() can destroy those a frozen or half-open server keeps
      stream: () => this.track(new Socket()),
    };
    this.where = describe(o);
    this.pool = new pg.Pool({ ...base, max: o.poolSize ?? 2, idleTimeoutMillis: 30_000 });
    // an idle pooled connection that dies emits here; the next call reconnects or reports it
    this.pool.on('error', () => {});
    this.watcher = new ChannelWatcher(base, channelOf(schema, o.legion), this.where, {
      timeoutMs: this.timeoutMs,
      heartbeatMs: o.watchHeartbeatMs ?? 5000,
      backoffMinMs: o.watchBackoffMinMs ?? 100,
      backoffMaxMs: o.watchBackoffMaxMs ?? 5000,
      random: o.random ?? Math.random,
      ...(o.onWatchError ? { onError: o.onWatchError } : {}),
    });
  }

  /** how often the watch connection came back after losing its LISTEN */
  get watchReconnects(): number {
    return this.watcher.reconnects;
  }

  async register(me: EngineCandidate, ttlMs: number): Promise<void> {
    checkUuid(me.uuid);
    if (me.valor < 0n || me.valor > U64_MAX)
      throw new LegiondError('ERR_RANGE', `valor ${me.valor} is not a u64`);
    const duration = ttl(ttlMs);
    await this.serial(() =>
      this.run('register', this.sql.register, [
        this.legion,
        me.uuid,
        me.name,
        me.valor.toString(),
        Buffer.from(me.scroll),
        me.standing,
        duration,
      ]),
    );
  }

  async unregister(uuid: string): Promise<void> {
    checkUuid(uuid);
    await this.serial(() => this.run('unregister', this.sql.unregister, [this.legion, uuid]));
  }

  async acquire(uuid: string, ttlMs: number): Promise<AcquireResult> {
    checkUuid(uuid);
    type Row = { ok: boolean; holder: string | null; epoch: string; remaining_ms: number | null };
    const r = await this.run<Row>('acquire', this.sql.acquire, [this.legion, uuid, ttl(ttlMs)]);
    const row = r[0];
    if (!row) throw new LegiondError('ERR_ENGINE', `PostgreSQL ${this.where}: acquire returned no row`);
    if (row.ok) return { ok: true, epoch: BigInt(row.epoch) };
    this.lapseIn(row.remaining_ms);
    return { ok: false, holder: row.holder === null ? null : { uuid: row.holder, epoch: BigInt(row.epoch) } };
  }

  async renew(uuid: string, epoch: bigint, ttlMs: number): Promise<boolean> {
    checkUuid(uuid);
    const n = await this.count('renew', this.sql.renew, [this.legion, uuid, epoch.toString(), ttl(ttlMs)]);
    return n === 1;
  }

  async release(uuid: string, epoch: bigint): Promise<void> {
    checkUuid(uuid);
    await this.serial(() => this.count('release', this.sql.release, [this.legion, uuid, epoch.toString()]));
  }

  async snapshot(): Promise<EngineSnapshot> {
    type Row = {
      holder: string | null;
      epoch: string | null;
      remaining_ms: number | null;
      uuid: string | null;
      name: string;
      valor: string;
      scroll: Buffer;
      standing: boolean;
      c_remaining_ms: number | null;
    };
    const rows = await this.run<Row>('snapshot', this.sql.snapshot, [this.legion]);
    // the next lapse of anything this snapshot holds: the title or a registration
    this.lapseIn(
      Math.min(...rows.flatMap((r) => [r.remaining_ms ?? Infinity, r.c_remaining_ms ?? Infinity])),
    );
    const first = rows[0];
    const title: EngineTitle | null =
      first && first.holder !== null && first.epoch !== null
        ? { uuid: first.holder, epoch: BigInt(first.epoch) }
        : null;
    const candidates: EngineCandidate[] = [];
    for (const r of rows) {
      if (r.uuid === null) continue;
      candidates.push({
        uuid: r.uuid,
        name: r.name,
        valor: BigInt(r.valor),
        scroll: new Uint8Array(r.scroll),
        standing: r.standing,
      });
    }
    return { candidates, title };
  }

  watch(changed: () => void): () => void {
    if (this.closed) return () => {};
    return this.watcher.add(changed);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.lapse);
    this.watcher.stop();
    await withDeadline(this.pool.end(), this.timeoutMs, 'close', this.where).catch(() => {});
    for (const s of this.sockets) s.destroy();
  }

  /**
   * A lapse runs no statement, so nothing notifies it: when a call has shown the title or a
   * registration live, the watchers are called once the server said the first of them lapses
   * (then they look, and find it renewed or gone). The server's remaining time is only a hint of
   * when to look; it decides nothing.
   */
  private lapseIn(remainingMs: number | null): void {
    if (remainingMs === null || !Number.isFinite(remainingMs) || !this.watcher.active) return;
    clearTimeout(this.lapse);
    this.lapse = setTimeout(() => this.watcher.poke(), Math.max(0, remainingMs) + LAPSE_SLACK_MS);
  }

  /**
   * Writes of this node's registration (register, release, unregister) go out one after the
   * other, in call order: on a pool they could overtake one another, and a registration landing
   * after the release that stood the node down, or after its unregister, would undo them.
   */
  private serial<T>(f: () => Promise<T>): Promise<T> {
    const next = this.writes.then(f, f);
    this.writes = next.catch(() => undefined);
    return next;
  }

  private track(s: Socket): Socket {
    this.sockets.add(s);
    s.once('close', () => this.sockets.delete(s));
    return s;
  }

  private async run<R extends QueryResultRow>(what: string, text: string, values: unknown[]): Promise<R[]> {
    return (await this.query<R>(what, text, values)).rows;
  }

  private async count(what: string, text: string, values: unknown[]): Promise<number> {
    return (await this.query(what, text, values)).rowCount ?? 0;
  }

  private async query<R extends QueryResultRow>(what: string, text: string, values: unknown[]) {
    if (this.closed) throw new LegiondError('ERR_CLOSED', `PostgreSQL engine of ${this.legion} is closed`);
    await this.ensureSchema();
    try {
      return await withDeadline(this.pool.query<R>(text, values), this.timeoutMs, what, this.where);
    } catch (e) {
      // the schema, a table or the function was dropped by hand: the next call creates it again
      if (MISSING_OBJECT.has(sqlState(e) ?? '')) this.schemaReady = null;
      throw e;
    }
  }

  /** once per client; a failure is retried by the next call */
  private ensureSchema(): Promise<void> {
    if (!this.schemaReady) {
      this.schemaReady = withDeadline(this.createSchema(), this.timeoutMs, 'create schema', this.where);
      this.schemaReady.catch(() => {
        this.schemaReady = null;
      });
    }
    return this.schemaReady;
  }

  private async createSchema(): Promise<void> {
    const marker = `legiond strong-mode engine, schema version ${SCHEMA_VERSION}`;
    const have = await this.pool.query<{ d: string | null }>(
      "SELECT obj_description(oid, 'pg_namespace') AS d FROM pg_namespace WHERE nspname = $1",
      [this.schema],
    );
    if (have.rows[0]?.d !== marker) {
      // one simple-protocol query: one implicit transaction, so the advisory lock covers it all
      await this.pool.query(
        `BEGIN; SELECT pg_advisory_xact_lock(hashtext('legiond schema')); ${schemaDdl(this.schema)} COMMIT;`,
      );
    }
    await this.pool.query(
      `INSERT INTO ${pg.escapeIdentifier(this.schema)}.leases (legion) VALUES ($1) ON CONFLICT DO NOTHING`,
      [this.legion],
    );
  }
}

function ttl(ms: number): string {
  if (!Number.isSafeInteger(ms) || ms <= 0)
    throw new LegiondError('ERR_RANGE', `ttl ${ms} ms is not a positive integer`);
  return String(ms);
}

function checkUuid(uuid: string): void {
  if (!isCanonicalUuid(uuid))
    throw new LegiondError('ERR_INVALID_VALUE', `${JSON.stringify(uuid)} is not a UUID`);
}

function describe(o: PostgresEngineOptions): string {
  if (o.connectionString) {
    try {
      const u = new URL(o.connectionString);
      return `${u.hostname}:${u.port || 5432}${u.pathname}`;
    } catch {
      return 'the configured server';
    }
  }
  return `${o.host ?? 'localhost'}:${o.port ?? 5432}/${o.database ?? o.user ?? 'postgres'}`;
}
