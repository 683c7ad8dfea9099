/**
 * EtcdEngineClient against a real etcd (started here on loopback): registrations and the title
 * under one lease, the fencing token as the lord key's create revision, renew and release that
 * check holder and token, lease expiry taking both keys, the watch.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EtcdEngineClient } from '../../src/engine/etcd.js';
import type { EngineCandidate } from '../../src/engine/types.js';
import { EtcdServer } from '../helpers/etcd-server.js';

let etcd: EtcdServer;
const clients: EtcdEngineClient[] = [];
beforeAll(async () => {
  etcd = new EtcdServer();
  await etcd.start();
}, 30_000);
afterAll(async () => {
  for (const c of clients) await c.close();
  await etcd?.cleanup();
});

function client(legion: string): EtcdEngineClient {
  const c = new EtcdEngineClient({ endpoints: [etcd.endpoint], prefix: '/t', legion });
  clients.push(c);
  return c;
}

const cand = (uuid: string, valor: bigint, over: Partial<EngineCandidate> = {}): EngineCandidate => ({
  uuid,
  name: `n-${uuid}`,
  valor,
  scroll: new TextEncoder().encode(`addr=${uuid}`),
  standing: true,
  ...over,
});

async function until(pred: () => Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await pred())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('EtcdEngineClient on a real etcd', () => {
  it('registrations round-trip; the title goes to one, its token the lord key create revision, increasing', async () => {
    const a = client('one');
    const b = client('one');
    await a.register(cand('a', 2n ** 63n), 5000);
    await b.register(cand('b', 7n, { standing: false }), 5000);
    const snap = await a.snapshot();
    expect(snap.title).toBeNull();
    const byUuid = Object.fromEntries(snap.candidates.map((c) => [c.uuid, c]));
    expect(byUuid.a).toEqual(cand('a', 2n ** 63n));
    expect(byUuid.b?.standing).toBe(false);

    const got = await a.acquire('a', 5000);
    expect(got.ok).toBe(true);
    const epoch = got.ok ? got.epoch : 0n;
    const raw = JSON.parse(await etcd.ctl(['get', '/t/one/lord', '-w', 'json'])) as {
      kvs: { create_revision: number }[];
    };
    expect(BigInt(raw.kvs[0]!.create_revision)).toBe(epoch);
    expect(await b.acquire('b', 5000)).toEqual({ ok: false, holder: { uuid: 'a', epoch } });
    expect(await a.renew('a', epoch, 5000)).toBe(true);
    expect(await a.renew('a', epoch + 1n, 5000)).toBe(false);
    // a release naming another token or holder changes nothing
    await b.release('b', epoch);
    await a.release('a', epoch - 1n);
    expect((await a.snapshot()).title).toEqual({ uuid: 'a', epoch });
    await a.release('a', epoch);
    const after = await a.snapshot();
    expect(after.title).toBeNull();
    // stood down in the same transaction: no peer sees the title gone with its holder standing
    expect(after.candidates.find((c) => c.uuid === 'a')?.standing).toBe(false);
    const next = await b.acquire('b', 5000);
    expect(next.ok && next.epoch > epoch).toBe(true);
  });

  it('an unchanged registration writes nothing', async () => {
    const a = client('quiet');
    await a.register(cand('a', 1n), 5000);
    const rev = async () =>
      (
        JSON.parse(await etcd.ctl(['get', '/t/quiet/candidates/a', '-w', 'json'])) as {
          kvs: { mod_revision: number }[];
        }
      ).kvs[0]!.mod_revision;
    const before = await rev();
    await a.register(cand('a', 1n), 5000);
    await a.register(cand('a', 1n), 5000);
    expect(await rev()).toBe(before);
    await a.register(cand('a', 2n), 5000);
    expect(await rev()).toBeGreaterThan(before);
  });

  it('the lord key removed by hand: renew says so', async () => {
    const a = client('del');
    await a.register(cand('a', 1n), 5000);
    const got = await a.acquire('a', 5000);
    if (!got.ok) throw new Error('not granted');
    await etcd.ctl(['del', '/t/del/lord']);
    expect(await a.renew('a', got.epoch, 5000)).toBe(false);
  });

  it('a lease left to expire takes the registration and the title with it', async () => {
    const a = client('expire');
    const b = client('expire');
    await a.register(cand('a', 1n), 1000);
    expect((await a.acquire('a', 1000)).ok).toBe(true);
    // no keepalive from a: etcd drops both keys within the TTL (raised to etcd's minimum)
    await until(
      async () => {
        const s = await b.snapshot();
        return s.title === null && s.candidates.length === 0;
      },
      'the lease to expire',
      15_000,
    );
    expect(await a.renew('a', 1n, 1000)).toBe(false);
  });

  it('unregister drops the title at once; the watch hears every change', async () => {
    const a = client('watch');
    const b = client('watch');
    let changes = 0;
    const stop = b.watch(() => changes++);
    await new Promise((r) => setTimeout(r, 300));
    const seen = changes;
    await a.register(cand('a', 1n), 5000);
    expect((await a.acquire('a', 5000)).ok).toBe(true);
    await until(async () => changes >= seen + 2, 'two watch events');
    await a.unregister('a');
    const s = await b.snapshot();
    expect(s).toEqual({ candidates: [], title: null });
    await until(async () => changes >= seen + 3, 'the unregister to be watched');
    stop();
  });
});
