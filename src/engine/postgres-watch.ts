/**
 * LISTEN on one channel over a dedicated connection (a pooled one would be handed to other
 * queries and lose its LISTEN), for as long as anyone watches.
 *
 * The connection can die loudly (server restart: an error or end event) or silently (a half-open
 * TCP connection, a frozen server: nothing arrives, and nothing says so). The loud case reconnects
 * with backoff; the silent one is caught by a heartbeat query that must answer within the call
 * timeout, after which the connection is dropped and reconnected. Each time LISTEN is in place
 * (the first time and after every reconnect) the callbacks fire once, because notifications sent
 * while nobody listened are lost.
 */
import { Socket } from 'node:net';
import type { Client, ClientConfig } from 'pg';
import pg from 'pg';
import { withDeadline } from './postgres-errors.js';

export interface WatchTiming {
  /** bound on connect, LISTEN and each heartbeat */
  timeoutMs: number;
  /** how often the connection proves it is alive */
  heartbeatMs: number;
  /** reconnect backoff: first delay, doubling up to the max */
  backoffMinMs: number;
  backoffMaxMs: number;
  /** [0, 1): spreads reconnects of many nodes after a server restart */
  random: () => number;
  /** told each time the watch connection is lost or cannot be made (the watcher retries) */
  onError?: (e: Error) => void;
}

export class ChannelWatcher {
  private readonly listeners = new Set<() => void>();
  private client: Client | null = null;
  private socket: Socket | null = null;
  /** bumped on every (re)connect and stop: events of an older connection are ignored */
  private generation = 0;
  private failures = 0;
  private retry: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;
  /** reconnects after the first LISTEN (for tests and status) */
  reconnects = 0;
  private listenedOnce = false;

  constructor(
    private readonly config: ClientConfig,
    private readonly channel: string,
    private readonly where: string,
    private readonly timing: WatchTiming,
  ) {}

  add(changed: () => void): () => void {
    const cb = () => changed();
    this.listeners.add(cb);
    if (this.listeners.size === 1) this.start();
    return () => {
      if (!this.listeners.delete(cb)) return;
      if (this.listeners.size === 0) this.stop();
    };
  }

  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** tell the watchers to look again (a change that sends no notification: a lapse) */
  poke(): void {
    this.fire();
  }

  stop(): void {
    this.listeners.clear();
    this.generation++;
    clearTimeout(this.retry);
    clearTimeout(this.heartbeat);
    this.drop();
  }

  private fire(): void {
    for (const cb of [...this.listeners]) {
      try {
        cb();
      } catch {
        // a throwing callback is its owner's bug; the other watchers still hear about the change
      }
    }
  }

  private start(): void {
    const gen = ++this.generation;
    const client = new pg.Client({
      ...this.config,
      stream: () => {
        this.socket = new Socket();
        return this.socket;
      },
    });
    this.client = client;
    const down = (e?: unknown) => this.down(gen, e);
    client.on('error', down);
    client.on('end', down);
    client.on('notification', (n) => {
      if (gen === this.generation && n.channel === this.channel) this.fire();
    });
    const ready = (async () => {
      await client.connect();
      await client.query(`LISTEN ${pg.escapeIdentifier(this.channel)}`);
    })();
    withDeadline(ready, this.timing.timeoutMs, 'LISTEN', this.where).then(() => {
      if (gen !== this.generation) return;
      this.failures = 0;
      if (this.listenedOnce) this.reconnects++;
      this.listenedOnce = true;
      this.scheduleBeat(gen, client);
      this.fire();
    }, down);
  }

  /** one heartbeat at a time: the next is armed when the last has answered */
  private scheduleBeat(gen: number, client: Client): void {
    this.heartbeat = setTimeout(() => {
      withDeadline(client.query('SELECT 1'), this.timing.timeoutMs, 'watch heartbeat', this.where).then(
        () => {
          if (gen === this.generation) this.scheduleBeat(gen, client);
        },
        (e: unknown) => this.down(gen, e),
      );
    }, this.timing.heartbeatMs);
  }

  private down(gen: number, e?: unknown): void {
    if (gen !== this.generation) return;
    this.generation++;
    const err = e instanceof Error ? e : new Error(`PostgreSQL ${this.where}: the watch connection ended`);
    try {
      this.timing.onError?.(err);
    } catch {
      // the reporter's own failure must not stop the reconnect
    }
    clearTimeout(this.heartbeat);
    this.drop();
    if (this.listeners.size === 0) return;
    const { backoffMinMs, backoffMaxMs, random } = this.timing;
    const full = Math.min(backoffMaxMs, backoffMinMs * 2 ** Math.min(this.failures, 20));
    this.failures++;
    this.retry = setTimeout(() => this.start(), full / 2 + (full / 2) * random());
  }

  /**
   * Forget the connection. Its socket is destroyed rather than ended: a half-open or frozen peer
   * never answers the goodbye, and the socket would linger (and keep the process alive).
   */
  private drop(): void {
    const c = this.client;
    this.client = null;
    if (!c) return;
    c.removeAllListeners('notification');
    c.on('error', () => {}); // late errors of a dropped connection
    this.socket?.destroy();
    this.socket = null;
  }
}
