/**
 * The live status page behind `/` and `/events`: it follows each legion's events and hook runs
 * into the history ring, renders the page and the timelines on the server (with the simulator's
 * drawing code), and pushes what changed to every open page over Server-Sent Events.
 *
 * The SVG is rendered here rather than in the browser so the drawing code stays one TypeScript
 * module run by Node, with no bundle to build or serve and no second copy to drift; the page's
 * script only swaps fragments in. A timeline is re-rendered when its legion's history changed
 * (at most once a second) or every AXIS_MS for the moving time axis, and sent only then.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import type { PublicEvent } from '../daemon/legion-host.js';
import type { WorkEvent } from '../daemon/legion-work.js';
import type { LegionView } from '../legion/types.js';
import { History, type HistoryBody, type HistoryEntry } from './history.js';
import { liveTimelineSvg, markerText } from './live-timeline.js';
import { type EntryLine, type LegionSnapshot, PAGE_CSP, pageHtml, summaryHtml } from './page.js';
import { eventId, SseHub, seenSeq, sseFrame } from './sse.js';

const text = new TextDecoder();

/** the legion as the page needs it */
export interface PageLegion {
  readonly name: string;
  view(): LegionView;
  subscribe(l: (e: PublicEvent) => void): () => void;
  subscribeWork(l: (e: WorkEvent) => void): () => void;
}

export interface StatusFeedOptions {
  /** wall-clock ms; default Date.now */
  wall?: () => number;
  /** monotonic ms, the clock of the views' lastSeenMs; default performance.now */
  mono?: () => number;
  maxClients?: number;
  heartbeatMs?: number;
  /** how often open pages get fresh "last heard" figures */
  refreshMs?: number;
  history?: History;
  /** distinguishes this process's event ids from a predecessor's */
  boot?: string;
  host?: string;
}

export const MAX_CLIENTS = 32;
const AXIS_MS = 10_000;
/** a legion that flaps gets its timeline re-drawn and re-sent at most this often */
const REDRAW_MS = 1000;
/** several events in a burst (a failover) make one status update */
const COALESCE_MS = 100;

interface Followed {
  legion: PageLegion;
  startedAt: number;
  unsubscribe: Array<() => void>;
  svg: string | null;
  svgAt: number;
  svgSeq: number;
}

export function snapshotOf(name: string, v: LegionView, mono: number): LegionSnapshot {
  return {
    name,
    self: { uuid: v.self.uuid, name: v.self.name },
    lord: v.lord ? { uuid: v.lord.uuid, name: v.lord.name, self: v.lord.self } : null,
    epoch: String(v.epoch),
    quorum: v.quorum,
    quorumMet: v.quorumMet,
    votes: v.votes,
    phase: v.phase,
    members: v.members.map((m) => ({
      uuid: m.uuid,
      name: m.name,
      role: m.observer ? 'observer' : m.arbiter ? 'arbiter' : 'member',
      valor: String(m.valor),
      lord: m.uuid === v.lord?.uuid,
      self: m.self,
      draining: m.draining,
      lastHeardMs: m.self ? 0 : Math.max(0, Math.round(mono - m.lastSeenMs)),
      scroll: text.decode(m.scroll),
    })),
  };
}

/** the history entry an event makes, if it is one the page keeps */
export function historyBody(e: PublicEvent): HistoryBody | null {
  const reason = e.reason === undefined ? {} : { reason: e.reason };
  if (e.type === 'lord-changed')
    return {
      kind: 'lord-changed',
      lord: e.lord && { uuid: e.lord.uuid, name: e.lord.name },
      epoch: e.epoch,
      ...reason,
    };
  if ((e.type === 'node-joined' || e.type === 'node-left') && e.member)
    return { kind: e.type, member: { uuid: e.member.uuid, name: e.member.name }, ...reason };
  if (e.type === 'join') return { kind: 'join', epoch: e.epoch };
  return null;
}

export function entryLine(e: HistoryEntry): EntryLine {
  return { seq: e.seq, at: e.at, legion: e.legion, kind: e.kind, text: markerText(e) };
}

export class StatusFeed {
  readonly history: History;
  readonly boot: string;
  private readonly hub: SseHub;
  private readonly wall: () => number;
  private readonly mono: () => number;
  private readonly followed = new Map<string, Followed>();
  private readonly refresh: NodeJS.Timeout;
  private pending: NodeJS.Timeout | null = null;

  constructor(private readonly o: StatusFeedOptions = {}) {
    this.wall = o.wall ?? Date.now;
    this.mono = o.mono ?? (() => performance.now());
    this.history = o.history ?? new History({ now: this.wall });
    this.boot = o.boot ?? this.wall().toString(36);
    this.hub = new SseHub({ maxClients: o.maxClients ?? MAX_CLIENTS, heartbeatMs: o.heartbeatMs ?? 15_000 });
    this.refresh = setInterval(() => {
      if (this.hub.size > 0) this.pushStatus();
    }, o.refreshMs ?? 2000);
    this.refresh.unref();
  }

  get clients(): number {
    return this.hub.size;
  }

  follow(legion: PageLegion): void {
    this.unfollow(legion.name);
    const f: Followed = { legion, startedAt: this.wall(), unsubscribe: [], svg: null, svgAt: 0, svgSeq: -1 };
    f.unsubscribe.push(
      legion.subscribe((e) => {
        const body = historyBody(e);
        if (body) this.record(legion.name, body);
      }),
      legion.subscribeWork((e) => {
        if (e.kind !== 'hook') return;
        const r = e.result;
        this.record(legion.name, {
          kind: 'hook',
          event: r.event,
          outcome: r.ok ? 'ok' : r.timedOut ? 'timeout' : 'failed',
          durationMs: Math.round(r.durationMs),
          exitCode: r.exitCode,
        });
      }),
    );
    this.followed.set(legion.name, f);
    this.soon();
  }

  /** the legion left, or a newer host of the same name replaces it */
  unfollow(name: string, legion?: PageLegion): void {
    const f = this.followed.get(name);
    if (!f || (legion !== undefined && f.legion !== legion)) return;
    for (const u of f.unsubscribe) u();
    this.followed.delete(name);
    if (legion !== undefined) this.history.forget(name);
    this.soon();
  }

  page(res: ServerResponse, head: boolean): void {
    const legions = [...this.followed.values()].map((f) => {
      const snapshot = snapshotOf(f.legion.name, f.legion.view(), this.mono());
      return { snapshot, svg: this.svgOf(f, snapshot, true) };
    });
    const recent = this.history.since(0).entries.map(entryLine);
    const body = pageHtml({
      host: this.o.host ?? hostname(),
      legions,
      recent,
      since: eventId(this.boot, this.history.lastSeq),
      now: this.wall(),
    });
    res.writeHead(200, {
      'Content-Type': 'text/html; charset=utf-8',
      'Cache-Control': 'no-store',
      'Content-Security-Policy': PAGE_CSP,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    });
    res.end(head ? undefined : body);
  }

  /** GET /events: replay from Last-Event-ID (or ?since=, for the first connection), then live */
  events(req: IncomingMessage, res: ServerResponse, query: URLSearchParams): void {
    if (this.hub.full) {
      res.writeHead(503, { 'Content-Type': 'application/json; charset=utf-8', 'Retry-After': '10' });
      res.end(`${JSON.stringify({ error: { code: 'ERR_BUSY', message: 'too many status pages open' } })}\n`);
      return;
    }
    const header = req.headers['last-event-id'];
    const asked = typeof header === 'string' ? header : query.get('since');
    const seen = seenSeq(asked, this.boot);
    const after = this.history.since(seen ?? 0);
    // without a usable id, or with a hole after it, the reader's record is not ours to extend:
    // it starts over with everything kept
    const fresh = seen === null || !after.complete;
    const entries = fresh ? this.history.since(0).entries : after.entries;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'X-Accel-Buffering': 'no',
      Connection: 'keep-alive',
    });
    // the request timeout of the server must not cut a stream
    req.socket.setTimeout(0);
    res.socket?.setNoDelay(true);
    let first = sseFrame({ data: '', event: 'hello', retry: 2000 });
    if (fresh) first += sseFrame({ event: 'reset', data: '' });
    for (const e of entries) first += this.entryFrame(e);
    first += sseFrame({ event: 'status', data: JSON.stringify(this.status(true)) });
    this.hub.add(res, first);
  }

  close(): void {
    clearInterval(this.refresh);
    if (this.pending) clearTimeout(this.pending);
    this.pending = null;
    for (const f of this.followed.values()) for (const u of f.unsubscribe) u();
    this.followed.clear();
    this.hub.close();
  }

  private record(legion: string, body: HistoryBody): void {
    const e = this.history.record(legion, body);
    if (this.hub.size > 0) this.hub.broadcast(this.entryFrame(e));
    this.soon();
  }

  private entryFrame(e: HistoryEntry): string {
    return sseFrame({ event: 'entry', id: eventId(this.boot, e.seq), data: JSON.stringify(entryLine(e)) });
  }

  private soon(): void {
    if (this.pending || this.hub.size === 0) return;
    this.pending = setTimeout(() => {
      this.pending = null;
      this.pushStatus();
    }, COALESCE_MS);
    this.pending.unref();
  }

  private pushStatus(): void {
    if (this.hub.size === 0) return;
    this.hub.broadcast(sseFrame({ event: 'status', data: JSON.stringify(this.status(false)) }));
  }

  /** every legion's summary; its timeline too when `all`, or when it changed since last sent */
  private status(all: boolean) {
    const legions = [...this.followed.values()].map((f) => {
      const snapshot = snapshotOf(f.legion.name, f.legion.view(), this.mono());
      const before = f.svg;
      const svg = this.svgOf(f, snapshot, false);
      return {
        name: snapshot.name,
        lord: snapshot.lord?.name ?? null,
        epoch: snapshot.epoch,
        summary: summaryHtml(snapshot),
        ...(all || svg !== before ? { svg } : {}),
      };
    });
    return { at: this.wall(), legions };
  }

  /** the cached timeline, re-rendered when the legion's history moved or the axis is stale */
  private svgOf(f: Followed, s: LegionSnapshot, fresh: boolean): string {
    const now = this.wall();
    const entries = this.history.entries(f.legion.name);
    const seq = entries.at(-1)?.seq ?? 0;
    const age = now - f.svgAt;
    if (f.svg !== null && !fresh && (seq === f.svgSeq ? age < AXIS_MS : age < REDRAW_MS)) return f.svg;
    f.svg = liveTimelineSvg({
      legion: f.legion.name,
      self: s.self,
      now,
      windowMs: this.history.windowMs,
      startedAt: f.startedAt,
      entries,
      before: this.history.before(f.legion.name),
      members: s.members,
    });
    f.svgAt = now;
    f.svgSeq = seq;
    return f.svg;
  }
}
