/**
 * The PostgreSQL engine's watch (LISTEN/NOTIFY on a dedicated connection) against a real server:
 * it fires on a registration, a grant, a release and a row removed by hand, not on a renewal or a
 * refresh, and again after the server restarts (notifications sent meanwhile are lost, so the
 * callback says "look again").
 */

import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { channelOf } from '../../src/engine/postgres-sql.js';
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
  await clients.closeAll();
});

/** a watch whose calls can be awaited one by one */
function counter() {
  let n = 0;
  return {
    cb: () => {
      n++;
    },
    get n() {
      return n;
    },
    /** wait for a call after the current count */
    async next(what: string, from = n): Promise<void> {
      await until(what, () => (n > from ? true : undefined));
    },
  };
}

describe('PostgreSQL engine: watch', () => {
  it('fires once LISTEN is in place, then on register, acquire, release, unregister and a row deleted by hand', async () => {
    const legion = 'watched';
    const w = clients.make(legion, { watchBackoffMinMs: 50 });
    const actor = clients.make(legion);
    const other = clients.make('unwatched');
    const seen = counter();
    const stop = w.watch(seen.cb);
    await seen.next('the first call, once listening', 0);

    const id = uuid();
    let from = seen.n;
    await actor.register(candidate(id, 'a'), 10_000);
    await seen.next('a registration', from);

    from = seen.n;
    const r = await actor.acquire(id, 10_000);
    expect(r.ok).toBe(true);
    const epoch = (r as { epoch: bigint }).epoch;
    await seen.next('a grant', from);

    // a renewal and a refresh change nothing a watcher needs; another legion is another channel.
    // A raw listener on the channel sees every notification, in commit order: after the
    // renewal and the refresh come only the release's (the title, and the holder standing down)
    // and the probe the test sends last.
    const raw = new pg.Client(server.connection);
    await raw.connect();
    const payloads: string[] = [];
    raw.on('notification', (n) => payloads.push(n.payload ?? ''));
    const chan = pg.escapeIdentifier(channelOf('legiond', legion));
    await raw.query(`LISTEN ${chan}`);
    from = seen.n;
    expect(await actor.renew(id, epoch, 10_000)).toBe(true);
    await actor.register(candidate(id, 'a'), 10_000);
    await other.register(candidate(uuid(), 'x'), 10_000);
    await actor.release(id, epoch);
    await server.query(`NOTIFY ${chan}, 'probe'`);
    await until('the probe', () => (payloads.includes('probe') ? true : undefined));
    await raw.end();
    expect(payloads).toEqual(['lease', 'candidate', 'probe']); // the release and its stand-down
    await seen.next('the release and the probe', from + 1);

    from = seen.n;
    await actor.unregister(id);
    await seen.next('an unregistration', from);

    await actor.acquire(id, 10_000);
    from = seen.n;
    await server.query('DELETE FROM legiond.leases WHERE legion = $1', [legion]);
    await seen.next('a lease row removed by hand', from);
    stop();
  });

  it('fires again after the server restarts, and notifications flow on the new connection', async () => {
    const legion = 'restarted';
    const troubles: Error[] = [];
    const w = clients.make(legion, {
      watchBackoffMinMs: 50,
      watchBackoffMaxMs: 500,
      onWatchError: (e) => troubles.push(e),
    });
    const actor = clients.make(legion);
    const seen = counter();
    const stop = w.watch(seen.cb);
    await seen.next('listening', 0);
    const from = seen.n;
    await server.restart('immediate');
    await seen.next('the call after the reconnect', from);
    expect(w.watchReconnects).toBeGreaterThanOrEqual(1);
    expect(troubles.length).toBeGreaterThanOrEqual(1); // reported, for the daemon's log
    const after = seen.n;
    await until('the actor reconnected', () =>
      actor.register(candidate(uuid(), 'b'), 10_000).then(() => true),
    );
    await seen.next('a registration after the restart', after);
    stop();
  });

  it('a lapse sends no notification, yet the watchers are called when a call saw the title held and it lapsed', async () => {
    const legion = 'lapse';
    const w = clients.make(legion);
    const actor = clients.make(legion);
    const seen = counter();
    const stop = w.watch(seen.cb);
    await seen.next('listening', 0);
    const id = uuid();
    let from = seen.n;
    expect((await actor.acquire(id, 800)).ok).toBe(true);
    await seen.next('the grant', from);
    // the server says when it lapses; the grant may notify more than once, so look again after
    // each call until a call finds the title gone
    let title = (await w.snapshot()).title;
    expect(title?.uuid).toBe(id);
    for (let i = 0; i < 5 && title !== null; i++) {
      from = seen.n;
      await seen.next('the lapse', from);
      title = (await w.snapshot()).title;
    }
    expect(title).toBeNull();
    // seen from the server: lapsed, and nothing wrote the row meanwhile
    const row = await server.query<{ live: boolean; holder: string }>(
      'SELECT expires_at > clock_timestamp() AS live, holder FROM legiond.leases WHERE legion = $1',
      [legion],
    );
    expect(row.rows[0]).toEqual({ live: false, holder: id });
    stop();
  });

  it('an unsubscribed callback is not called; the last one closes the connection', async () => {
    const legion = 'unsub';
    const w = clients.make(legion);
    const actor = clients.make(legion);
    const a = counter();
    const b = counter();
    const stopA = w.watch(a.cb);
    const stopB = w.watch(b.cb);
    await a.next('a listening', 0);
    stopA();
    const fromA = a.n;
    const fromB = b.n;
    await actor.register(candidate(uuid(), 'c'), 10_000);
    await b.next('b hears it', fromB);
    expect(a.n).toBe(fromA);
    stopB();
    const listeners = async () =>
      Number(
        (
          await server.query<{ n: string }>(
            "SELECT count(*)::text AS n FROM pg_stat_activity WHERE query LIKE 'LISTEN%' AND application_name = $1",
            [`legiond ${legion}`],
          )
        ).rows[0]!.n,
      );
    await until('the LISTEN connection gone', async () => ((await listeners()) === 0 ? true : undefined));
  });
});
