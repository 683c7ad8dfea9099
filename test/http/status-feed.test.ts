/**
 * The status page and its event stream through HttpEndpoint on loopback (ports 45060-45061), over
 * a fake legion: the page, SSE headers and frames, replay by Last-Event-ID, a fresh start for an
 * id from another boot, the bound on open streams, no client left behind on disconnect, and the
 * bearer token on both paths.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { type ClientRequest, type IncomingMessage, request, type ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { PublicEvent } from '../../src/daemon/legion-host.js';
import type { WorkEvent } from '../../src/daemon/legion-work.js';
import { createLogger } from '../../src/daemon/logger.js';
import { HttpEndpoint } from '../../src/http/endpoint.js';
import { History } from '../../src/http/history.js';
import { MAX_CLIENTS, StatusFeed } from '../../src/http/status.js';
import type { EndpointLegion } from '../../src/http/tracked.js';
import type { LegionView, MemberInfo } from '../../src/legion/types.js';
import { get } from '../helpers/http.js';
import { Lab, until } from '../helpers/procs.js';

const member = (name: string, self: boolean): MemberInfo => ({
  uuid: `00000000-0000-4000-8000-${name.padStart(12, '0')}`,
  name,
  valor: 100n,
  lord: false,
  arbiter: false,
  observer: false,
  draining: false,
  self,
  scroll: new TextEncoder().encode(`addr=${name}`),
  lastSeenMs: performance.now(),
  vote: null,
  epoch: 1n,
});

class FakeLegion {
  readonly name = 'web';
  readonly cfg = { intervalMs: 1000 } as EndpointLegion['cfg'];
  readonly a = member('a', true);
  readonly b = member('b', false);
  lord: MemberInfo | null = null;
  epoch = 0n;
  private events: Array<(e: PublicEvent) => void> = [];
  view(): LegionView {
    return {
      legion: 'web',
      self: this.a,
      lord: this.lord,
      epoch: this.epoch,
      quorum: 1,
      quorumMet: true,
      votes: 1,
      baseValor: 100n,
      valor: 100n,
      draining: false,
      drainingUntilMs: null,
      members: [this.a, this.b],
      phase: 'running',
    };
  }
  status() {
    return { counters: {} } as unknown as ReturnType<EndpointLegion['status']>;
  }
  workStatus() {
    return { lord: false, daemons: [], cronRunning: false };
  }
  subscribe(l: (e: PublicEvent) => void) {
    this.events.push(l);
    return () => {
      this.events = this.events.filter((x) => x !== l);
    };
  }
  subscribeWork(_l: (e: WorkEvent) => void) {
    return () => undefined;
  }
  lordIs(m: MemberInfo | null) {
    this.lord = m;
    this.epoch++;
    const e: PublicEvent = {
      legion: 'web',
      type: 'lord-changed',
      epoch: String(this.epoch),
      lord: m ? { uuid: m.uuid, name: m.name } : null,
      at: new Date().toISOString(),
    };
    for (const l of this.events) l(e);
  }
}

/** an open event stream: what has arrived so far, parsed into frames */
class Stream {
  text = '';
  res: IncomingMessage | null = null;
  readonly req: ClientRequest;
  readonly opened: Promise<IncomingMessage>;
  constructor(port: number, path: string, headers: Record<string, string> = {}) {
    this.req = request({ host: '127.0.0.1', port, path, headers });
    this.opened = new Promise((resolve, reject) => {
      this.req.on('response', (res) => {
        this.res = res;
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          this.text += c;
        });
        resolve(res);
      });
      this.req.on('error', reject);
    });
    this.req.end();
  }
  frames() {
    return this.text
      .split('\n\n')
      .filter((f) => f.length > 0 && !f.startsWith(':'))
      .map((f) => {
        const o: Record<string, string> = {};
        for (const line of f.split('\n')) {
          const i = line.indexOf(': ');
          const k = line.slice(0, i);
          o[k] = k in o ? `${o[k]}\n${line.slice(i + 2)}` : line.slice(i + 2);
        }
        return o;
      });
  }
  entries() {
    return this.frames()
      .filter((f) => f.event === 'entry')
      .map((f) => ({ id: f.id, ...JSON.parse(f.data!) }));
  }
  close() {
    this.req.destroy();
  }
}

let endpoint: HttpEndpoint | null = null;
const streams: Stream[] = [];
let lab: Lab | null = null;
afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  await endpoint?.close();
  endpoint = null;
  await lab?.cleanup();
  lab = null;
});

async function start(port: number, tokenFile: string | null = null) {
  endpoint = new HttpEndpoint({
    config: { listen: { host: '127.0.0.1', port }, tokenFile },
    logger: createLogger({ level: 'silent' }),
  });
  await endpoint.listen();
  const legion = new FakeLegion();
  endpoint.legionRunning(legion as unknown as EndpointLegion);
  return legion;
}

const open = (port: number, path = '/events', headers: Record<string, string> = {}) => {
  const s = new Stream(port, path, headers);
  streams.push(s);
  return s;
};

describe('status page and event stream', () => {
  it('serve the page, stream entries and status, and replay from Last-Event-ID', async () => {
    const PORT = 45060;
    const legion = await start(PORT);
    legion.lordIs(legion.b);
    const page = await get(PORT, '/');
    expect(page.status).toBe(200);
    expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.body).toContain('<span class="lord">b</span>');
    expect(page.body).toContain('addr=b');
    const since = /data-since="([^"]+)"/.exec(page.body)![1]!;
    expect(since).toMatch(/^[0-9a-z]+-1$/);
    expect((await get(PORT, '/', { method: 'HEAD' })).body).toBe('');

    // the page's own first connection: ?since= from the page, nothing to replay yet
    const s1 = open(PORT, `/events?since=${since}`);
    const res = await s1.opened;
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect(res.headers['cache-control']).toBe('no-store');
    await until(() => s1.frames().some((f) => f.event === 'status'), 'the first status');
    expect(s1.frames().map((f) => f.event)).toEqual(['hello', 'status']);
    expect(s1.frames()[0]!.retry).toBe('2000');
    const first = JSON.parse(s1.frames()[1]!.data!);
    expect(first.legions[0]).toMatchObject({ name: 'web', lord: 'b', epoch: '1' });
    expect(first.legions[0].svg).toContain('<svg');

    legion.lordIs(legion.a);
    legion.lordIs(null);
    await until(() => s1.entries().length === 2, 'two entries');
    const [e2, e3] = s1.entries();
    expect(e2).toMatchObject({ seq: 2, kind: 'lord-changed', text: 'lord a e2', legion: 'web' });
    expect(e3).toMatchObject({ seq: 3, text: 'no lord' });
    expect(e2.id).toBe(since.replace(/-1$/, '-2'));
    // and a status follows the burst, with the new timeline
    await until(
      () => s1.frames().some((f) => f.event === 'status' && JSON.parse(f.data!).legions[0].lord === null),
      'a status without a lord',
    );
    // the timeline follows too (re-drawn at most once a second, so it may take a refresh)
    await until(
      () =>
        s1
          .frames()
          .some(
            (f) => f.event === 'status' && (JSON.parse(f.data!).legions[0].svg ?? '').includes('lord a e2'),
          ),
      'a timeline with the lord change',
    );

    // a browser reconnecting after e2 gets e3 only: the header wins over the page's ?since=
    const s2 = open(PORT, `/events?since=${since}`, { 'Last-Event-ID': e2.id });
    await until(() => s2.frames().some((f) => f.event === 'status'), 'the replayed status');
    expect(s2.entries().map((e) => e.seq)).toEqual([3]);
    expect(s2.frames().some((f) => f.event === 'reset')).toBe(false);
    // an id from another boot of the daemon: start over with everything kept
    const s3 = open(PORT, '/events', { 'Last-Event-ID': 'zzz-2' });
    await until(() => s3.frames().some((f) => f.event === 'status'), 'the status after a reset');
    expect(s3.frames()[1]!.event).toBe('reset');
    expect(s3.entries().map((e) => e.seq)).toEqual([1, 2, 3]);

    // closing the connections leaves nothing behind
    expect(endpoint!.feed.clients).toBe(3);
    for (const s of streams) s.close();
    await until(() => endpoint!.feed.clients === 0, 'the streams to be forgotten');
  });

  it('bounds the open streams, and asks for the token on / and /events', async () => {
    lab = new Lab();
    const PORT = 45061;
    const token = lab.path('token');
    writeFileSync(token, 's3cret\n', { mode: 0o600 });
    await start(PORT, token);
    expect((await get(PORT, '/')).status).toBe(401);
    expect((await get(PORT, '/events')).status).toBe(401);
    expect((await get(PORT, '/', { token: 's3cret' })).status).toBe(200);
    const auth = { Authorization: 'Bearer s3cret' };
    for (let i = 0; i < MAX_CLIENTS; i++) await open(PORT, '/events', auth).opened;
    await until(() => endpoint!.feed.clients === MAX_CLIENTS, 'every stream open');
    const over = await get(PORT, '/events', { token: 's3cret' });
    expect(over.status).toBe(503);
    expect(JSON.parse(over.body).error.code).toBe('ERR_BUSY');
    streams[0]!.close();
    await until(() => endpoint!.feed.clients === MAX_CLIENTS - 1, 'one stream to close');
    const again = open(PORT, '/events', auth);
    expect((await again.opened).statusCode).toBe(200);
  });
});

describe('StatusFeed replay', () => {
  /** enough of a ServerResponse for the feed */
  class FakeRes extends EventEmitter {
    text = '';
    status = 0;
    writableLength = 0;
    socket = null;
    writeHead(status: number) {
      this.status = status;
      return this;
    }
    write(c: string) {
      this.text += c;
      return true;
    }
    end(c?: string) {
      if (c) this.text += c;
      this.emit('close');
    }
  }
  const req = (lastEventId?: string) =>
    ({
      headers: lastEventId === undefined ? {} : { 'last-event-id': lastEventId },
      socket: { setTimeout: () => undefined },
    }) as unknown as IncomingMessage;
  const ids = (r: FakeRes) => [...r.text.matchAll(/^id: \w+-(\d+)$/gm)].map((m) => Number(m[1]));

  it('starts a reader over when what followed its id fell out of the ring', () => {
    let now = 0;
    const history = new History({ capacity: 3, now: () => now });
    const feed = new StatusFeed({ history, boot: 'b0', wall: () => now });
    const legion = new FakeLegion();
    feed.follow(legion as unknown as EndpointLegion);
    try {
      for (let i = 0; i < 5; i++) {
        now += 10;
        legion.lordIs(i % 2 ? legion.a : legion.b);
      }
      // kept: 3, 4, 5. A reader at 3 missed nothing that was dropped
      const upToDate = new FakeRes();
      feed.events(req('b0-3'), upToDate as unknown as ServerResponse, new URLSearchParams());
      expect(upToDate.status).toBe(200);
      expect(ids(upToDate)).toEqual([4, 5]);
      expect(upToDate.text).not.toContain('event: reset');
      // a reader at 1 missed 2, gone: reset, then all that is kept
      const behind = new FakeRes();
      feed.events(req('b0-1'), behind as unknown as ServerResponse, new URLSearchParams());
      expect(behind.text.indexOf('event: reset')).toBeGreaterThan(-1);
      expect(ids(behind)).toEqual([3, 4, 5]);
      // ?since= counts when the header is absent (an EventSource's first connection)
      const first = new FakeRes();
      feed.events(req(), first as unknown as ServerResponse, new URLSearchParams('since=b0-4'));
      expect(ids(first)).toEqual([5]);
      expect(feed.clients).toBe(3);
      for (const r of [upToDate, behind, first]) r.emit('close');
      expect(feed.clients).toBe(0);
    } finally {
      feed.close();
    }
  });
});
