/**
 * watch(): a legion's lord and scroll changes as an async iterator that outlives daemon restarts.
 *
 * Each session subscribes to `events` and then asks `lord` on the same connection. The daemon
 * writes one connection's lines in order, so the reply reflects every lord-changed event before
 * it and every one after it is news: nothing falls in between. After a reconnect the lord read
 * is compared with the last one yielded, and a change made while the daemon was away is yielded
 * as a lord-changed event of its own (`via: 'reconnect'`).
 */
import { ControlConnection } from '../control/connection.js';
import type { LordInfo, LordResult } from '../control/results.js';
import { isLegiondError, LegiondError } from '../errors.js';

export interface WatchOptions {
  /** ends the iterator, as return() does */
  signal?: AbortSignal;
  /** first wait before reconnecting, doubled at every failed attempt up to maxDelayMs; default 100 */
  minDelayMs?: number;
  /** default 2000 */
  maxDelayMs?: number;
  /** per request on the socket; default 10 s */
  timeoutMs?: number;
  /**
   * A daemon that is starting answers before its legions run, so a legion missing from a daemon
   * that answers is retried this long before the iterator fails with ERR_UNKNOWN_LEGION;
   * default 30 s.
   */
  unknownLegionGraceMs?: number;
  /** told of every lost connection or failed attempt; watch() keeps trying after it */
  onDisconnect?: (err: LegiondError) => void;
}

export interface WatchLordEvent {
  type: 'lord-changed';
  legion: string;
  /** null while the legion has no lord */
  lord: LordInfo | null;
  /** start: the lord when watching began; event: the daemon reported a change; reconnect: a change seen after the daemon came back */
  via: 'start' | 'event' | 'reconnect';
}

export interface WatchScrollEvent {
  type: 'scroll-changed';
  legion: string;
  member: { uuid: string; name: string; scroll: string };
}

export type WatchEvent = WatchLordEvent | WatchScrollEvent;

/** lost connections and a daemon that is (re)starting; anything else will not mend by waiting */
const RETRYABLE = new Set(['ERR_NOT_RUNNING', 'ERR_CONNECTION_CLOSED', 'ERR_CONTROL_IO', 'ERR_TIMEOUT']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;
const isStr = (v: unknown): v is string => typeof v === 'string';

/** a lord as events and replies carry it; undefined when malformed */
function lordInfo(v: unknown): LordInfo | null | undefined {
  if (v === null) return null;
  if (!isObj(v) || !isStr(v.uuid) || !isStr(v.name) || !isStr(v.epoch) || !isStr(v.scroll)) return undefined;
  return { uuid: v.uuid, name: v.name, epoch: v.epoch, scroll: v.scroll };
}

function sameLord(a: LordInfo | null, b: LordInfo | null): boolean {
  if (a === null || b === null) return a === b;
  return a.uuid === b.uuid && a.epoch === b.epoch && a.scroll === b.scroll;
}

export class Watcher implements AsyncIterableIterator<WatchEvent> {
  private readonly queue: WatchEvent[] = [];
  private waiter: { resolve: (r: IteratorResult<WatchEvent>) => void; reject: (e: unknown) => void } | null =
    null;
  private started = false;
  private ended = false;
  private failure: unknown = null;
  private conn: ControlConnection | null = null;
  /** the lord last yielded; undefined before the first read */
  private last: LordInfo | null | undefined = undefined;
  private readonly stop = new AbortController();
  private readonly o: Required<Omit<WatchOptions, 'signal' | 'onDisconnect'>> & WatchOptions;

  constructor(
    private readonly path: string,
    private readonly legion: string,
    opts: WatchOptions = {},
  ) {
    this.o = {
      minDelayMs: 100,
      maxDelayMs: 2000,
      timeoutMs: 10_000,
      unknownLegionGraceMs: 30_000,
      ...opts,
    };
    const signal = opts.signal;
    if (signal?.aborted) this.end();
    else signal?.addEventListener('abort', () => this.end(), { once: true, signal: this.stop.signal });
  }

  [Symbol.asyncIterator](): AsyncIterableIterator<WatchEvent> {
    return this;
  }

  next(): Promise<IteratorResult<WatchEvent>> {
    if (!this.started && !this.ended) {
      // connect on first use, so a watcher never iterated holds no connection
      this.started = true;
      void this.run();
    }
    const value = this.queue.shift();
    if (value) return Promise.resolve({ done: false, value });
    if (this.failure !== null) {
      const f = this.failure;
      this.failure = null;
      return Promise.reject(f);
    }
    if (this.ended) return Promise.resolve({ done: true, value: undefined });
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
    });
  }

  return(): Promise<IteratorResult<WatchEvent>> {
    this.end();
    return Promise.resolve({ done: true, value: undefined });
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.queue.length = 0;
    this.stop.abort();
    this.conn?.close();
    const w = this.waiter;
    this.waiter = null;
    w?.resolve({ done: true, value: undefined });
  }

  private fail(err: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.stop.abort();
    this.conn?.close();
    const w = this.waiter;
    this.waiter = null;
    // events already queued are still delivered; the error comes after them
    if (w) w.reject(err);
    else this.failure = err;
  }

  private emit(e: WatchEvent): void {
    if (this.ended) return;
    const w = this.waiter;
    this.waiter = null;
    if (w) w.resolve({ done: false, value: e });
    else this.queue.push(e);
  }

  private async run(): Promise<void> {
    let delay = this.o.minDelayMs;
    let missingSince: number | null = null;
    while (!this.ended) {
      let err: LegiondError;
      try {
        err = await this.session(() => {
          delay = this.o.minDelayMs;
          missingSince = null;
        });
      } catch (e) {
        if (!isLegiondError(e)) return this.fail(e);
        err = e;
      }
      if (this.ended) return;
      if (err.code === 'ERR_UNKNOWN_LEGION') {
        missingSince ??= Date.now();
        if (Date.now() - missingSince > this.o.unknownLegionGraceMs) return this.fail(err);
      } else if (!RETRYABLE.has(err.code)) return this.fail(err);
      try {
        this.o.onDisconnect?.(err);
      } catch {
        // a throwing observer must not end the watch
      }
      await this.sleep(delay);
      delay = Math.min(delay * 2, this.o.maxDelayMs);
    }
  }

  /** one connection: subscribe, read the lord, then follow events; returns why it ended */
  private async session(onSynced: () => void): Promise<LegiondError> {
    const conn = await ControlConnection.open(this.path);
    this.conn = conn;
    if (this.ended) {
      conn.close();
      return new LegiondError('ERR_CLOSED', 'watch ended');
    }
    let synced = false;
    try {
      await conn.stream('events', { legion: this.legion }, (e) => this.onEvent(e, synced), {
        timeoutMs: this.o.timeoutMs,
      });
      await conn.request(
        'lord',
        { legion: this.legion },
        {
          timeoutMs: this.o.timeoutMs,
          // synchronously, so an event read right after the reply already counts as news
          onReply: (r) => {
            synced = true;
            this.resync(r);
          },
        },
      );
    } catch (e) {
      conn.close();
      throw e;
    }
    onSynced();
    return (await conn.closed) ?? new LegiondError('ERR_CLOSED', 'watch ended');
  }

  private resync(r: LordResult): void {
    const lord = lordInfo(r.lord);
    if (lord === undefined) {
      this.fail(
        new LegiondError('ERR_PROTOCOL', 'the daemon answered lord with a shape this client cannot read'),
      );
      return;
    }
    const first = this.last === undefined;
    if (!first && sameLord(this.last as LordInfo | null, lord)) return;
    this.last = lord;
    this.emit({ type: 'lord-changed', legion: this.legion, lord, via: first ? 'start' : 'reconnect' });
  }

  private onEvent(e: Record<string, unknown>, synced: boolean): void {
    // before the lord reply, the reply itself says where things stand
    if (!synced || e.legion !== this.legion) return;
    if (e.type === 'lord-changed') {
      const lord = lordInfo(e.lord);
      if (lord === undefined || sameLord(this.last ?? null, lord)) return;
      this.last = lord;
      this.emit({ type: 'lord-changed', legion: this.legion, lord, via: 'event' });
    } else if (e.type === 'scroll-changed') {
      const m = e.member;
      if (!isObj(m) || !isStr(m.uuid) || !isStr(m.name) || !isStr(m.scroll)) return;
      // keep the lord's scroll current, so a reconnect does not report this change again
      if (this.last && this.last.uuid === m.uuid) this.last = { ...this.last, scroll: m.scroll };
      this.emit({
        type: 'scroll-changed',
        legion: this.legion,
        member: { uuid: m.uuid, name: m.name, scroll: m.scroll },
      });
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stop.signal.aborted) return resolve();
      const signal = this.stop.signal;
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
