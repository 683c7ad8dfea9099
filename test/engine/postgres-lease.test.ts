/**
 * The PostgreSQL engine's lease against a real PostgreSQL 15: one holder among competing
 * clients, the fencing token strictly increasing over every grant (release, expiry, a lease row
 * removed by hand, a crash of the server), leases judged by the server's clock, and the README's
 * fencing example refusing a stale lord's write.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { isLegiondError } from '../../src/errors.js';
import { PgServer } from '../helpers/pg-server.js';
import { Clients, candidate, until, uuid } from './pg-fixture.js';

let server: PgServer;
const clients = new Clients(() => server);

beforeAll(async () => {
  server = await PgServer.start();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  vi.useRealTimers();
  await clients.closeAll();
});

describe('PostgreSQL engine: the lease', () => {
  it('of three clients competing at once, exactly one acquires, round after round', async () => {
    const legion = 'compete';
    const cs = [0, 1, 2].map(() => clients.make(legion));
    const ids = cs.map(() => uuid());
    let last = 0n;
    for (let round = 0; round < 5; round++) {
      const rs = await Promise.all(cs.map((c, i) => c.acquire(ids[i]!, 10_000)));
      const winners = rs.flatMap((r, i) => (r.ok ? [i] : []));
      expect(winners).toHaveLength(1);
      const w = winners[0]!;
      const epoch = (rs[w] as { epoch: bigint }).epoch;
      expect(epoch).toBeGreaterThan(last);
      for (const [i, r] of rs.entries()) {
        if (i !== w) expect(r).toEqual({ ok: false, holder: { uuid: ids[w], epoch } });
      }
      expect((await cs[0]!.snapshot()).title).toEqual({ uuid: ids[w], epoch });
      // holding it already is a refusal naming the holder, not a second grant
      expect(await cs[w]!.acquire(ids[w]!, 10_000)).toEqual({ ok: false, holder: { uuid: ids[w], epoch } });
      await cs[w]!.release(ids[w]!, epoch);
      last = epoch;
    }
  });

  it('tokens strictly increase across release, expiry and a lease row removed by hand', async () => {
    const legion = 'tokens';
    const a = clients.make(legion);
    const b = clients.make(legion);
    const [ia, ib] = [uuid(), uuid()];
    const seen: bigint[] = [];
    const take = async (c: typeof a, id: string, ttl: number) => {
      const r = await until('a grant', async () => {
        const x = await c.acquire(id, ttl);
        return x.ok ? x : undefined;
      });
      seen.push(r.epoch);
      return r.epoch;
    };
    const e1 = await take(a, ia, 10_000);
    await a.release(ia, e1);
    await take(b, ib, 300); // lapses by itself
    const e3 = await take(a, ia, 10_000);
    await server.query('DELETE FROM legiond.leases WHERE legion = $1', [legion]);
    expect(await a.renew(ia, e3, 10_000)).toBe(false);
    await take(b, ib, 10_000);
    for (let i = 1; i < seen.length; i++) expect(seen[i]!).toBeGreaterThan(seen[i - 1]!);
    expect(seen).toHaveLength(4);
  });

  it('tokens keep increasing across a crash and restart of the server', async () => {
    const legion = 'restart';
    const a = clients.make(legion);
    const ia = uuid();
    const r1 = await a.acquire(ia, 60_000);
    expect(r1.ok).toBe(true);
    const e1 = (r1 as { epoch: bigint }).epoch;
    await server.restart('immediate');
    // the grant survived (it is a committed row), and the client's pool reconnects by itself
    const held = await until('the server back', () => a.snapshot());
    expect(held.title).toEqual({ uuid: ia, epoch: e1 });
    await a.release(ia, e1);
    const r2 = await a.acquire(ia, 60_000);
    expect(r2.ok && r2.epoch > e1).toBe(true);
    await server.restart('fast');
    const e2 = (r2 as { epoch: bigint }).epoch;
    await until('the server back', () => a.snapshot());
    await a.release(ia, e2);
    const r3 = await a.acquire(ia, 60_000);
    expect(r3.ok && r3.epoch > e2).toBe(true);
  });

  it('a lease lapses by the server clock: the client clock, frozen a day ahead, is not used', async () => {
    const legion = 'server-clock';
    const a = clients.make(legion);
    const b = clients.make(legion);
    const [ia, ib] = [uuid(), uuid()];
    // freeze the clients' wall and monotonic clocks a day ahead; real timers keep running
    vi.useFakeTimers({ toFake: ['Date', 'performance'], now: Date.now() + 86_400_000 });
    const t0 = await server.clockMs();
    const r = await a.acquire(ia, 800);
    const t1 = await server.clockMs();
    expect(r.ok).toBe(true);
    const epoch = (r as { epoch: bigint }).epoch;
    const row = await server.query<{ granted: string; expires: string }>(
      `SELECT (extract(epoch FROM granted_at) * 1000)::text AS granted,
              (extract(epoch FROM expires_at) * 1000)::text AS expires
       FROM legiond.leases WHERE legion = $1`,
      [legion],
    );
    const granted = Number(row.rows[0]!.granted);
    const expires = Number(row.rows[0]!.expires);
    // set by the server between our two readings of its clock, exactly ttl apart
    expect(granted).toBeGreaterThanOrEqual(t0 - 1);
    expect(granted).toBeLessThanOrEqual(t1 + 1);
    expect(expires - granted).toBeCloseTo(800, 0);
    expect(Date.now() - expires).toBeGreaterThan(80_000_000); // the client's clock is far away
    expect(await a.renew(ia, epoch, 800)).toBe(true);
    // wait for the server's clock to pass the lease (real timers, frozen client clock)
    await until('the server clock past the lease', async () => {
      const e = await server.query<{ live: boolean }>(
        'SELECT expires_at > clock_timestamp() AS live FROM legiond.leases WHERE legion = $1',
        [legion],
      );
      return e.rows[0]!.live ? undefined : true;
    });
    expect(await a.renew(ia, epoch, 800)).toBe(false);
    expect((await b.snapshot()).title).toBeNull();
    const rb = await b.acquire(ib, 800);
    expect(rb.ok && rb.epoch > epoch).toBe(true);
  });

  it('renew and release with a stale epoch or another holder change nothing', async () => {
    const legion = 'stale';
    const a = clients.make(legion);
    const b = clients.make(legion);
    const [ia, ib] = [uuid(), uuid()];
    const r1 = await a.acquire(ia, 300);
    const e1 = (r1 as { epoch: bigint }).epoch;
    const r2 = await until('b after a lapsed', async () => {
      const x = await b.acquire(ib, 10_000);
      return x.ok ? x : undefined;
    });
    await a.release(ia, e1); // a stale lord giving up what it no longer has
    expect((await b.snapshot()).title).toEqual({ uuid: ib, epoch: r2.epoch });
    expect(await a.renew(ia, e1, 10_000)).toBe(false);
    await a.release(ib, e1); // right holder, wrong epoch
    await b.release(ia, r2.epoch); // right epoch, wrong holder
    expect((await b.snapshot()).title).toEqual({ uuid: ib, epoch: r2.epoch });
    expect(await b.renew(ib, r2.epoch, 10_000)).toBe(true);
  });

  it('a release stands the holder down in the same transaction; a stale release does not', async () => {
    const legion = 'standdown';
    const a = clients.make(legion);
    const [ia, ib] = [uuid(), uuid()];
    await a.register(candidate(ia, 'a'), 10_000);
    await a.register(candidate(ib, 'b'), 10_000);
    const r = await a.acquire(ia, 10_000);
    const epoch = (r as { epoch: bigint }).epoch;
    await a.release(ib, epoch); // not the holder: nothing changes
    const standing = async () =>
      Object.fromEntries((await a.snapshot()).candidates.map((c) => [c.name, c.standing]));
    expect(await standing()).toEqual({ a: true, b: true });
    await a.release(ia, epoch);
    const s = await a.snapshot();
    expect(s.title).toBeNull();
    expect(await standing()).toEqual({ a: false, b: true });
  });

  it('registrations: live ones are listed with their fields; lapsed and unregistered ones are not', async () => {
    const legion = 'registry';
    const a = clients.make(legion);
    const [ia, ib, ic] = [uuid(), uuid(), uuid()];
    await a.register(candidate(ia, 'a', (1n << 64n) - 1n), 10_000);
    await a.register({ ...candidate(ib, 'b', 0n), standing: false }, 10_000);
    await a.register(candidate(ic, 'c'), 200);
    const s1 = await a.snapshot();
    expect(s1.candidates.map((c) => c.name).sort()).toEqual(['a', 'b', 'c']);
    const ca = s1.candidates.find((c) => c.uuid === ia)!;
    expect(ca.valor).toBe((1n << 64n) - 1n);
    expect(new TextDecoder().decode(ca.scroll)).toBe('addr=a');
    expect(s1.candidates.find((c) => c.uuid === ib)!.standing).toBe(false);
    await until('c lapsed', async () => ((await a.snapshot()).candidates.length === 2 ? true : undefined));
    await a.unregister(ib);
    expect((await a.snapshot()).candidates.map((c) => c.name)).toEqual(['a']);
    // another legion in the same schema sees none of them
    expect((await clients.make('other').snapshot()).candidates).toEqual([]);
  });

  it('bad arguments are refused with a code, before anything reaches the server', async () => {
    const a = clients.make('args');
    await expect(a.acquire('not-a-uuid', 1000)).rejects.toMatchObject({ code: 'ERR_INVALID_VALUE' });
    await expect(a.acquire(uuid(), 0)).rejects.toMatchObject({ code: 'ERR_RANGE' });
    await expect(a.register(candidate(uuid(), 'x', 1n << 64n), 1000)).rejects.toMatchObject({
      code: 'ERR_RANGE',
    });
    expect(() => clients.make('args', { schema: 'bad"name' })).toThrow(/not a plain identifier/);
    await a.close();
    const e = await a.snapshot().catch((x: unknown) => x);
    expect(isLegiondError(e, 'ERR_CLOSED')).toBe(true);
  });

  it('a role that may not create the schema gets ERR_ENGINE naming the server and the SQLSTATE', async () => {
    await server.query('DROP ROLE IF EXISTS weak');
    await server.query('CREATE ROLE weak LOGIN');
    const c = clients.make('weak', { user: 'weak', schema: 'legiond_weak' });
    const e = await c.snapshot().catch((x: unknown) => x);
    expect(isLegiondError(e, 'ERR_ENGINE')).toBe(true);
    expect((e as Error).message).toMatch(
      /127\.0\.0\.1:\d+\/postgres: create schema: .*permission denied.*42501/,
    );
  });

  it('the schema is created on first use, idempotently, by clients starting at once; dropped, it comes back', async () => {
    const cs = [0, 1, 2, 3].map(() => clients.make('ddl', { schema: 'legiond_ddl' }));
    const rs = await Promise.all(cs.map((c) => c.snapshot()));
    expect(rs.every((r) => r.title === null)).toBe(true);
    await server.query('DROP SCHEMA legiond_ddl CASCADE');
    const id = uuid();
    // the first call after the drop fails (a missing table), the next creates the schema again
    await until('the schema back', async () => ((await cs[0]!.acquire(id, 5000)).ok ? true : undefined));
    expect((await cs[1]!.snapshot()).title?.uuid).toBe(id);
  });
});

describe('the README fencing example: a store refusing writes with an older token', () => {
  it('a stale lord acting late fails instead of overwriting its successor', async () => {
    await server.query(
      'CREATE TABLE IF NOT EXISTS jobs (id int PRIMARY KEY, payload text, epoch bigint NOT NULL)',
    );
    await server.query("INSERT INTO jobs VALUES (1, 'init', 0) ON CONFLICT DO NOTHING");
    const legion = 'fence';
    const old = clients.make(legion);
    const next = clients.make(legion);
    const [io, inext] = [uuid(), uuid()];
    const ro = await old.acquire(io, 300);
    const eOld = (ro as { epoch: bigint }).epoch;
    // the README's statement
    const write = (payload: string, epoch: bigint) =>
      server.query('UPDATE jobs SET payload = $1, epoch = $2 WHERE id = $3 AND epoch <= $2', [
        payload,
        epoch,
        1,
      ]);
    expect((await write('from old', eOld)).rowCount).toBe(1);
    const rn = await until('the successor', async () => {
      const x = await next.acquire(inext, 10_000);
      return x.ok ? x : undefined;
    });
    expect((await write('from next', rn.epoch)).rowCount).toBe(1);
    // the old lord wakes up and writes with its token: refused
    expect((await write('late, from old', eOld)).rowCount).toBe(0);
    const row = await server.query<{ payload: string; epoch: string }>(
      'SELECT payload, epoch FROM jobs WHERE id = 1',
    );
    expect(row.rows[0]).toEqual({ payload: 'from next', epoch: rn.epoch.toString() });
  });
});
