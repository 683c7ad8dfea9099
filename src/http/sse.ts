/**
 * Server-Sent Events: the framing (WHATWG HTML, "server-sent events"), event ids a restarted
 * daemon cannot confuse with its predecessor's, and a hub of bounded size that sends heartbeat
 * comments (so proxies and the browser see the stream alive), drops clients that stop reading,
 * and forgets a client the moment its connection closes.
 */

export interface SseFrame {
  event?: string;
  id?: string;
  /** one `data:` line per line of text */
  data: string;
  /** reconnection delay the browser should use, ms */
  retry?: number;
}

const ONE_LINE = /^[^\r\n]*$/;

export function sseFrame(f: SseFrame): string {
  let out = '';
  if (f.event !== undefined) {
    if (!ONE_LINE.test(f.event)) throw new RangeError('an SSE event name is one line');
    out += `event: ${f.event}\n`;
  }
  if (f.id !== undefined) {
    // a NUL in an id makes the browser ignore the field
    if (!ONE_LINE.test(f.id) || f.id.includes('\0'))
      throw new RangeError('an SSE id is one line without NUL');
    out += `id: ${f.id}\n`;
  }
  if (f.retry !== undefined) out += `retry: ${Math.max(0, Math.floor(f.retry))}\n`;
  for (const line of f.data.split(/\r\n|\r|\n/)) out += `data: ${line}\n`;
  return `${out}\n`;
}

/** a comment line: ignored by the browser, keeps the connection busy */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}

/** ids are `<boot>-<seq>`: a seq from another boot of the daemon means nothing here */
export function eventId(boot: string, seq: number): string {
  return `${boot}-${seq}`;
}

/** the seq a reader has seen, or null when the id is absent, malformed or from another boot */
export function seenSeq(id: string | undefined | null, boot: string): number | null {
  if (id === undefined || id === null) return null;
  const m = /^([0-9a-z]+)-(\d{1,15})$/.exec(id.trim());
  if (!m || m[1] !== boot) return null;
  return Number(m[2]);
}

/** what the hub needs of a response (a node:http ServerResponse is one) */
export interface SseSink {
  write(chunk: string): boolean;
  end(): void;
  readonly writableLength: number;
  once(event: 'close', listener: () => void): unknown;
}

export interface SseHubOptions {
  maxClients: number;
  heartbeatMs: number;
  /** a client with this much unsent is too slow and is dropped */
  maxBufferedBytes?: number;
  setInterval?: (f: () => void, ms: number) => { unref?(): void };
  clearInterval?: (t: unknown) => void;
}

export class SseHub {
  private readonly clients = new Set<SseSink>();
  private timer: unknown = null;
  private readonly maxBuffered: number;

  constructor(private readonly o: SseHubOptions) {
    this.maxBuffered = o.maxBufferedBytes ?? 1 << 20;
  }

  get size(): number {
    return this.clients.size;
  }

  get full(): boolean {
    return this.clients.size >= this.o.maxClients;
  }

  /** false when the hub is full: the caller answers 503 */
  add(sink: SseSink, first: string): boolean {
    if (this.full) return false;
    this.clients.add(sink);
    sink.once('close', () => this.drop(sink, false));
    this.send(sink, first);
    if (this.timer === null) {
      const every = this.o.setInterval ?? setInterval;
      const t = every(() => this.broadcast(sseComment('heartbeat')), this.o.heartbeatMs);
      // the heartbeat alone must not keep the process alive
      t.unref?.();
      this.timer = t;
    }
    return true;
  }

  broadcast(chunk: string): void {
    for (const c of [...this.clients]) this.send(c, chunk);
  }

  /** ends every stream (the daemon is shutting down) */
  close(): void {
    for (const c of [...this.clients]) this.drop(c, true);
    this.stopTimer();
  }

  private send(c: SseSink, chunk: string): void {
    if (!this.clients.has(c)) return;
    if (c.writableLength > this.maxBuffered) this.drop(c, true);
    else c.write(chunk);
  }

  private drop(c: SseSink, end: boolean): void {
    if (!this.clients.delete(c)) return;
    if (end) c.end();
    if (this.clients.size === 0) this.stopTimer();
  }

  private stopTimer(): void {
    if (this.timer === null) return;
    (this.o.clearInterval ?? ((t) => clearInterval(t as NodeJS.Timeout)))(this.timer);
    this.timer = null;
  }
}
