/**
 * The PostgreSQL engine when the server or the network misbehaves: a frozen server (SIGSTOP of
 * its whole process group) makes every call reject with ERR_ENGINE_TIMEOUT instead of hanging; a
 * client cut off by a proxy loses its lease by the server's clock, and another client gets the
 * title only after the cut-off one's own bound (sentAt of its last renewal + ttl) has passed; a
 * slow link within the timeout still works, one beyond it times out; a silent half-open watch
 * connection is noticed by its heartbeat and replaced.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLegiondError } from '../../src/errors.js';
import { TcpProxy } from '../helpers/pg-proxy.js';
import { PgServer } from '../helpers/pg-server.js';
import { Clients, candidate, settle, until, uuid } from './pg-fixture.js';

let server: PgServer;
const clients = new Clients(() => server);
const proxies: TcpProxy[] = [];

beforeAll(async () => {
  server = await PgServer.start();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  if (server?.paused) server.resume();
  await clients.closeAll();
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

async function proxy(): Promise<TcpProxy> {
  const p = await TcpProxy.start(server.port);
  proxies.push(p);
  return p;
}

const TIMEOUT = 800;
/** generous: the bound is TIMEOUT; this only keeps a broken deadline from hanging the test */
const OUTER = TIMEOUT * 4 + 3000;

describe('PostgreSQL engine: faults', () => {
  it('a frozen server: every call rejects with ERR_ENGINE_TIMEOUT, pooled connection or new; it recovers after SIGCONT', async () => {
    const legion = 'frozen';
    const warm = clients.make(legion, { timeoutMs: TIMEOUT });
    const id = uuid();
    const r = await warm.acquire(id, 60_000);
    expect(r.ok).toBe(true);
    const epoch = (r as { epoch: bigint }).epoch;
    const cold = clients.make(legion, { timeoutMs: TIMEOUT }); // never connected yet
    server.pause();
    const calls = await Promise.all([
      settle(warm.renew(id, epoch, 60_000)),
      settle(warm.snapshot()),
      settle(warm.register(candidate(id, 'a'), 60_000)),
      settle(cold.acquire(uuid(), 60_000)),
      settle(cold.snapshot()),
    ]);
    server.resume();
    for (const c of calls) {
      expect(c.ok).toBe(false);
      expect(isLegiondError(c.error, 'ERR_ENGINE_TIMEOUT')).toBe(true);
      expect(c.ms).toBeLessThan(OUTER);
    }
    // after the thaw both clients work again, and the grant is still there
    const s = await until('the thawed server', () => warm.snapshot());
    expect(s.title).toEqual({ uuid: id, epoch });
    expect(await until('a renewal after the thaw', () => warm.renew(id, epoch, 60_000))).toBe(true);
    expect((await until('the cold client', () => cold.snapshot())).title?.uuid).toBe(id);
  });

  it('a lord cut off by the proxy loses its lease by the server clock; another takes over only after its bound', async () => {
    const legion = 'cut';
    const p = await proxy();
    const ttl = 1500;
    const lord = clients.make(legion, { host: '127.0.0.1', port: p.port, timeoutMs: TIMEOUT });
    const peer = clients.make(legion, { timeoutMs: TIMEOUT });
    const [il, ip] = [uuid(), uuid()];
    const r = await lord.acquire(il, ttl);
    expect(r.ok).toBe(true);
    const epoch = (r as { epoch: bigint }).epoch;
    // renew as a lord would, remembering when the last successful renewal was sent
    let lastSent = 0;
    for (let i = 0; i < 3; i++) {
      const sent = performance.now();
      expect(await lord.renew(il, epoch, ttl)).toBe(true);
      lastSent = sent;
    }
    p.cut();
    const failed = await settle(lord.renew(il, epoch, ttl));
    expect(isLegiondError(failed.error, 'ERR_ENGINE_TIMEOUT')).toBe(true);
    // the peer, still reaching the server, keeps trying
    const got = await until('the peer granted', async () => {
      const x = await peer.acquire(ip, ttl);
      return x.ok ? { epoch: x.epoch, at: performance.now() } : undefined;
    });
    expect(got.epoch).toBeGreaterThan(epoch);
    // safe hand-over: the lord's own bound had passed before the peer held the title
    expect(got.at).toBeGreaterThanOrEqual(lastSent + ttl);
    // once the link is back, the old lord learns it lost the title, and cannot take it back
    p.heal();
    expect(await until('the lord reconnected', () => lord.renew(il, epoch, ttl))).toBe(false);
    expect(await lord.acquire(il, ttl)).toEqual({ ok: false, holder: { uuid: ip, epoch: got.epoch } });
  });

  it('a slow link: a delay within the timeout works, one beyond it times out', async () => {
    const legion = 'slow';
    const p = await proxy();
    const c = clients.make(legion, { host: '127.0.0.1', port: p.port, timeoutMs: 1500 });
    await c.snapshot(); // connected and schema in place
    p.delay(150);
    const slow = await settle(c.snapshot());
    expect(slow.ok).toBe(true);
    expect(slow.ms).toBeGreaterThanOrEqual(2 * 150 - 20); // one round trip through the delay
    p.delay(2000);
    const late = await settle(c.acquire(uuid(), 10_000));
    expect(isLegiondError(late.error, 'ERR_ENGINE_TIMEOUT')).toBe(true);
    p.delay(0);
    expect((await until('the link fast again', () => c.snapshot())).candidates).toEqual([]);
  });

  it('a silent half-open watch connection is caught by the heartbeat and replaced', async () => {
    const legion = 'half-open';
    const p = await proxy();
    const w = clients.make(legion, {
      host: '127.0.0.1',
      port: p.port,
      timeoutMs: TIMEOUT,
      watchHeartbeatMs: 300,
      watchBackoffMinMs: 50,
      watchBackoffMaxMs: 300,
    });
    const actor = clients.make(legion);
    let calls = 0;
    const stop = w.watch(() => {
      calls++;
    });
    await until('listening', () => (calls > 0 ? true : undefined));
    p.cut();
    // notifications sent during the cut are lost on the half-open connection
    await actor.register(candidate(uuid(), 'lost'), 60_000);
    const during = calls;
    // nothing closed the connection: only the heartbeat can notice, and a new attempt shows it did
    const accepted = p.accepted;
    await until('a reconnect attempt', () => (p.accepted > accepted ? true : undefined));
    p.heal();
    // the watcher reconnects, and says so with a call
    await until('the watch back', () => (w.watchReconnects >= 1 && calls > during ? true : undefined));
    const after = calls;
    await actor.register(candidate(uuid(), 'heard'), 60_000);
    await until('a notification on the new connection', () => (calls > after ? true : undefined));
    stop();
  });

  it('an unreachable server: calls reject with ERR_ENGINE_UNREACHABLE or ERR_ENGINE_TIMEOUT, never hang', async () => {
    const p = await proxy();
    await p.close(); // nothing listens on its port any more
    const c = clients.make('nowhere', { host: '127.0.0.1', port: p.port, timeoutMs: TIMEOUT });
    const r = await settle(c.snapshot());
    expect(r.ok).toBe(false);
    expect(isLegiondError(r.error, 'ERR_ENGINE_UNREACHABLE')).toBe(true);
    expect((r.error as Error).message).toMatch(/127\.0\.0\.1/);
  });
});
