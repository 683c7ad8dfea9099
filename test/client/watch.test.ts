import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LegiondClient, type WatchEvent } from '../../src/client/index.js';
import { type ControlServer, startControlServer } from '../../src/control/server.js';
import { isLegiondError, LegiondError } from '../../src/errors.js';
import { FakeHandler } from '../control/fake-handler.js';

const logger = pino({ level: 'silent' });
let dir: string;
let path: string;
const cleanup: Array<() => unknown> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legiond-watch-'));
  path = join(dir, 'ctl.sock');
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(handler = new FakeHandler()): Promise<{ h: FakeHandler; s: ControlServer }> {
  const s = await startControlServer({ path, handler, logger });
  cleanup.push(() => s.close());
  return { h: handler, s };
}

function watch(opts: Parameters<LegiondClient['watch']>[1] = {}) {
  const it = new LegiondClient({ path, timeoutMs: 2000 }).watch('web', {
    minDelayMs: 20,
    maxDelayMs: 100,
    ...opts,
  });
  cleanup.push(() => it.return?.());
  return it;
}

/** the next event, failing after 3 s rather than hanging the test */
async function next(it: AsyncIterator<WatchEvent>): Promise<IteratorResult<WatchEvent>> {
  let t: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    t = setTimeout(() => reject(new Error('no event within 3 s')), 3000);
  });
  try {
    return await Promise.race([it.next(), timeout]);
  } finally {
    clearTimeout(t);
  }
}
async function value(it: AsyncIterator<WatchEvent>): Promise<WatchEvent> {
  const r = await next(it);
  if (r.done) throw new Error('the watch ended');
  return r.value;
}

const until = async (pred: () => boolean, what: string) => {
  for (let i = 0; i < 300; i++) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
};

const B = { uuid: 'u-b', name: 'node-b', epoch: '8', scroll: 'addr=10.0.0.6:6379' };

describe('watch()', () => {
  it('yields the current lord, then lord and scroll changes of its legion only, without repeats', async () => {
    const { h } = await serve();
    const it = watch();
    expect(await value(it)).toEqual({
      type: 'lord-changed',
      legion: 'web',
      via: 'start',
      lord: { uuid: 'u-a', name: 'node-a', epoch: '7', scroll: 'addr=10.0.0.5:6379' },
    });
    await until(() => h.subscriberCount === 1, 'the subscription');
    h.emit('web', 'node-left', { member: { uuid: 'u-a', name: 'node-a' } });
    h.emit('db', 'lord-changed', { lord: B });
    h.emit('web', 'lord-changed', { lord: B });
    h.emit('web', 'lord-changed', { lord: B });
    h.emit('web', 'scroll-changed', { member: { uuid: 'u-b', name: 'node-b', scroll: 'addr=10.0.0.7:1' } });
    h.emit('web', 'lord-changed', { lord: null });
    expect(await value(it)).toEqual({ type: 'lord-changed', legion: 'web', via: 'event', lord: B });
    expect(await value(it)).toEqual({
      type: 'scroll-changed',
      legion: 'web',
      member: { uuid: 'u-b', name: 'node-b', scroll: 'addr=10.0.0.7:1' },
    });
    expect(await value(it)).toEqual({ type: 'lord-changed', legion: 'web', via: 'event', lord: null });
  });

  it('reconnects after a daemon restart and reports a lord change made meanwhile, once', async () => {
    const first = await serve();
    const lost: string[] = [];
    const it = watch({ onDisconnect: (e) => lost.push(e.code) });
    expect((await value(it)).type).toBe('lord-changed');
    await until(() => first.h.subscriberCount === 1, 'the subscription');
    await first.s.close();
    // down for a few attempts: they fail with ERR_NOT_RUNNING and are retried
    await until(() => lost.filter((c) => c === 'ERR_NOT_RUNNING').length >= 2, 'retries');
    expect(lost[0]).toBe('ERR_CONNECTION_CLOSED');
    const second = new FakeHandler();
    second.lords.set('web', { ...B, self: false });
    await serve(second);
    expect(await value(it)).toEqual({ type: 'lord-changed', legion: 'web', via: 'reconnect', lord: B });
    // and the new stream is live
    await until(() => second.subscriberCount === 1, 'the new subscription');
    second.emit('web', 'scroll-changed', { member: { uuid: 'u-b', name: 'node-b', scroll: 's2' } });
    expect(await value(it)).toMatchObject({ type: 'scroll-changed', member: { scroll: 's2' } });
  });

  it('yields nothing after a restart when the lord is the same, its scroll change seen included', async () => {
    const first = await serve();
    const it = watch();
    await value(it);
    await until(() => first.h.subscriberCount === 1, 'the subscription');
    first.h.emit('web', 'scroll-changed', { member: { uuid: 'u-a', name: 'node-a', scroll: 'new' } });
    expect(await value(it)).toMatchObject({ type: 'scroll-changed', member: { scroll: 'new' } });
    await first.s.close();
    const second = new FakeHandler();
    second.lords.set('web', { uuid: 'u-a', name: 'node-a', epoch: '7', scroll: 'new', self: true });
    await serve(second);
    await until(() => second.subscriberCount === 1, 'the new subscription');
    // wait for the lord reply too: it follows the subscription on the same connection
    await until(() => second.calls.some((c) => c.cmd === 'lord'), 'the lord read');
    second.emit('web', 'lord-changed', { lord: B });
    expect(await value(it)).toEqual({ type: 'lord-changed', legion: 'web', via: 'event', lord: B });
  });

  it('counts an event written right after the lord reply, in the same chunk', async () => {
    await rawServer((sock, req) => {
      if (req.cmd === 'events') sock.write(`${JSON.stringify({ v: 1, id: req.id, ok: true, result: {} })}\n`);
      if (req.cmd === 'lord') {
        const reply = { v: 1, id: req.id, ok: true, result: { legion: 'web', lord: null } };
        const event = { v: 1, id: 1, event: { legion: 'web', type: 'lord-changed', lord: B } };
        sock.write(`${JSON.stringify(reply)}\n${JSON.stringify(event)}\n`);
      }
    });
    const it = watch();
    expect(await value(it)).toMatchObject({ via: 'start', lord: null });
    expect(await value(it)).toMatchObject({ via: 'event', lord: B });
  });

  it('ends a pending next() on return() and lets go of the connection', async () => {
    const { h } = await serve();
    const it = watch();
    await value(it);
    await until(() => h.subscriberCount === 1, 'the subscription');
    const pending = it.next();
    await it.return?.();
    expect(await pending).toEqual({ done: true, value: undefined });
    expect(await it.next()).toEqual({ done: true, value: undefined });
    await until(() => h.subscriberCount === 0, 'the unsubscription');
  });

  it('ends on its AbortSignal, and at once when it is already aborted', async () => {
    const { h } = await serve();
    const ac = new AbortController();
    const seen: string[] = [];
    const loop = (async () => {
      for await (const e of watch({ signal: ac.signal })) seen.push(e.type);
    })();
    await until(() => seen.length === 1 && h.subscriberCount === 1, 'the first event');
    ac.abort();
    await loop;
    await until(() => h.subscriberCount === 0, 'the unsubscription');
    expect(await next(watch({ signal: AbortSignal.abort() }))).toEqual({ done: true, value: undefined });
  });

  it('fails with the daemon code when waiting cannot help', async () => {
    const h = new FakeHandler();
    const request = h.request.bind(h);
    // a daemon of a version without the lord command
    h.request = (cmd, args) =>
      cmd === 'lord'
        ? Promise.reject(new LegiondError('ERR_UNKNOWN_COMMAND', 'unknown command "lord"'))
        : request(cmd, args);
    await serve(h);
    expect(await codeOf(next(watch()))).toBe('ERR_UNKNOWN_COMMAND');
  });

  it('retries a legion the daemon does not run yet, then gives up after the grace', async () => {
    const { h } = await serve();
    h.legions.delete('web');
    const lost: string[] = [];
    expect(
      await codeOf(next(watch({ unknownLegionGraceMs: 100, onDisconnect: (e) => lost.push(e.code) }))),
    ).toBe('ERR_UNKNOWN_LEGION');
    expect(lost.length).toBeGreaterThanOrEqual(2);
  });
});

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  return isLegiondError(e) ? e.code : `unexpected: ${String(e)}`;
}

/** a hand-made daemon answering each request line with `answer` */
async function rawServer(answer: (s: Socket, req: { id: number; cmd: string }) => void): Promise<Server> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
        answer(s, JSON.parse(buf.slice(0, i)) as { id: number; cmd: string });
        buf = buf.slice(i + 1);
      }
    });
  });
  await new Promise<void>((r) => srv.listen(path, r));
  cleanup.push(
    () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(r);
      }),
  );
  return srv;
}
