/**
 * Strong mode on PostgreSQL, end to end: three real legiond processes (valor 100/200/300) with
 * `backend: postgres`, each reaching a real PostgreSQL 15 through its own proxy, their lord-only
 * work an attached daemon and the lord/unlord hook span of test/helpers/workload.ts. Each fault
 * is judged from the workloads' own log: at most one workload at any instant, the epochs
 * (LEGION_EPOCH, the engine's token) strictly increasing across lordships, nothing left running.
 *
 * A legiond that is SIGKILLed or paused cannot run its unlord hook, so the hook span it was in
 * stays open (or ends late) by construction; that span is left out of the count, its daemon is not.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { PgServer } from '../helpers/pg-server.js';
import { requireBuild, sleep } from '../helpers/procs.js';
import { describeAnalysis, type Interval } from '../helpers/workload.js';
import { pgLegions } from './pg-legion.js';

let server: PgServer;
const legions = pgLegions(() => server);
const TTL = 2000;
/** bound on waiting for a hand-over (a few TTLs; generous for a busy shared machine) */
const WAIT = 30_000;

beforeAll(async () => {
  requireBuild();
  server = await PgServer.start();
});
afterEach(async () => {
  if (server?.paused) server.resume();
  await legions.cleanup();
});
afterAll(async () => {
  await server?.stop();
});

let base = 45300;
async function legion() {
  base += 10;
  const L = await legions.make({ base, ttlMs: TTL, daemon: { termMs: 0, graceMs: 2000 } });
  const top = await L.startAll();
  expect(top).toBe('n3');
  await L.firstWrite('n3', 0, 'its daemon as the first lord', 'daemon', WAIT);
  return L;
}

/** the spans of `node` begun before `t` (open or ended late by construction) */
const spansOf = (node: string, t: number) => (s: Interval) => s.node === node && s.startMs < t;

async function verdict(L: Awaited<ReturnType<typeof legion>>, ignore?: (s: Interval) => boolean) {
  const { a, problems } = await L.finish(ignore ? { ignoreSpan: ignore } : {});
  const why = describeAnalysis(a);
  expect(problems, why).toEqual([]);
  expect(a.maxConcurrency, why).toBeLessThanOrEqual(1);
  expect(a.epochsIncrease, why).toBe(true);
  return a;
}

describe('legiond on PostgreSQL: faults', { timeout: 180_000 }, () => {
  it('SIGKILL of the lord: the next lord starts its daemon after the old one is gone, with a greater epoch', async () => {
    const L = await legion();
    const t0 = Date.now();
    L.proc('n3').kill('SIGKILL');
    const next = await L.firstWrite('n2', t0, 'the next lord daemon', 'daemon', WAIT);
    const a = await verdict(L, spansOf('n3', t0));
    expect(next.epoch! > a.epochs[0]!).toBe(true);
  });

  it('SIGSTOP of the lord past its lease: its daemon stops before the new lord starts one; woken, it follows', async () => {
    const L = await legion();
    const m3 = L.proc('n3').mark();
    L.proc('n3').kill('SIGSTOP');
    const t0 = Date.now();
    const next = await L.firstWrite('n2', t0, 'the next lord daemon', 'daemon', WAIT);
    await sleep(500);
    const t1 = Date.now();
    L.proc('n3').kill('SIGCONT');
    // n3 (best valor) takes the title back through the engine, under a new epoch
    await L.proc('n3').waitEvent('lord', 20_000, m3);
    const back = await L.firstWrite('n3', t1, 'its daemon once it took the title back', 'daemon', 20_000);
    const a = await verdict(L, spansOf('n3', t0));
    expect(back.epoch! > next.epoch!).toBe(true);
    const old = a.procs.filter((p) => p.node === 'n3' && p.kind === 'daemon' && p.startMs < t0);
    expect(Math.max(...old.map((p) => p.endMs))).toBeLessThan(next.ms);
  });

  it('the lord cut off from PostgreSQL while its peers still reach it: it steps down before another is granted', async () => {
    const L = await legion();
    const t0 = Date.now();
    L.proxy('n3').cut();
    const next = await L.firstWrite('n2', t0, 'the next lord daemon', 'daemon', WAIT);
    // n3 says so: the engine unreachable, and not lord
    const st = await L.status('n3');
    expect(st?.engine?.reachable).toBe(false);
    expect(st?.lord?.name).not.toBe('n3');
    L.proxy('n3').heal();
    const a = await verdict(L);
    const old = a.procs.filter((p) => p.node === 'n3' && p.kind === 'daemon' && p.startMs < t0);
    expect(Math.max(...old.map((p) => p.endMs))).toBeLessThan(next.ms);
  });

  it('the lease row deleted by hand: the lord stops, and the next grant has a greater epoch', async () => {
    const L = await legion();
    const first = L.w.lines().find((l) => l.kind === 'daemon')!;
    const t0 = Date.now();
    await server.query("DELETE FROM legiond.leases WHERE legion = 'web'");
    // whoever is granted next (n3 again, as the best) runs under a new epoch
    const next = await L.waitNew(
      (l) => l.kind === 'daemon' && l.epoch !== null && l.epoch > first.epoch!,
      t0,
      'a daemon under a new epoch',
      WAIT,
    );
    expect(next.epoch! > first.epoch!).toBe(true);
    await verdict(L);
  });

  it('PostgreSQL frozen (SIGSTOP) past the lease: no lord at all, then one again after SIGCONT', async () => {
    const L = await legion();
    server.pause();
    const t0 = Date.now();
    // every node loses the engine; the lord steps down by its own clock within the TTL
    await L.waitLine((l) => l.kind === 'span-end' && l.ms > t0, 'the lord stepping down', WAIT);
    const quietFrom = Date.now();
    await sleep(TTL);
    const during = L.w.lines().filter((l) => l.kind === 'daemon' && l.ms > quietFrom);
    const st = await L.status('n2');
    server.resume();
    expect(during).toEqual([]); // nobody runs lord-only work while the engine cannot decide
    expect(st?.engine?.reachable).toBe(false);
    expect(st?.lord ?? null).toBeNull();
    const t1 = Date.now();
    await L.waitNew((l) => l.kind === 'daemon', t1, 'a lord again', 20_000);
    await verdict(L);
  });

  it('PostgreSQL restarted (crash-like): at most one runner throughout, epochs still increase', async () => {
    const L = await legion();
    const t0 = Date.now();
    await server.restart('immediate');
    await sleep(TTL);
    await L.waitNew((l) => l.kind === 'daemon' && l.ms > t0 + TTL, t0, 'a lord after the restart', 20_000);
    await verdict(L);
  });

  it('a slow engine (every link +150 ms): the lord keeps the title; beyond its call timeout it steps down, safely', async () => {
    const L = await legion();
    for (const n of ['n1', 'n2', 'n3']) L.proxy(n).delay(150);
    const t0 = Date.now();
    await sleep(2 * TTL);
    const runs = L.w.lines().filter((l) => l.kind === 'daemon' && l.ms > t0);
    expect(new Set(runs.map((l) => l.node))).toEqual(new Set(['n3']));
    expect(new Set(runs.map((l) => String(l.epoch))).size).toBe(1); // no hand-over at all
    // the lord's link slower than its call timeout (TTL / 3): it cannot renew, and steps down
    L.proxy('n3').delay(TTL);
    const t1 = Date.now();
    await L.firstWrite('n2', t1, 'the next lord daemon', 'daemon', WAIT);
    await verdict(L);
  });
});
