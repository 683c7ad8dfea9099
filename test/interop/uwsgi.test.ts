/**
 * legiond in `protocol: uwsgi` mode inside a legion of real uWSGI 2.0 nodes (/usr/bin/uwsgi), on
 * loopback, unicast full mesh. Which node ran a lord hook is read from a file every hook of every
 * node appends to; what legiond sees is read with legionctl.
 */
import { createCipheriv } from 'node:crypto';
import dgram from 'node:dgram';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isLegiondError } from '../../src/errors.js';
import { type UwsgiAnnounce, UwsgiCodec } from '../../src/protocol/uwsgi/codec.js';
import { Lab, type Proc, requireBuild, sleep } from '../helpers/procs.js';
import {
  CIPHER,
  FREQ_S,
  hookLines,
  LEGION,
  type MemberRow,
  members,
  netLordship,
  requireUwsgi,
  startLegiond,
  startUwsgi,
  status,
  type UwsgiNode,
  until,
} from './helpers.js';

const SECRET = 'interop-secret';
/** long enough for a SIGKILL failover (tolerance + freq) on a loaded machine */
const WAIT_MS = 45_000;
/** after the expected lord hook ran, nothing else may happen for this long */
const QUIET_MS = 2000 * FREQ_S;

let lab: Lab;
let uwsgis: UwsgiNode[] = [];

function killAllUwsgi(): void {
  for (const u of uwsgis) u.kill('SIGKILL');
}
// a vitest worker that dies mid-test must not leave detached uWSGI groups behind
process.on('exit', killAllUwsgi);

beforeAll(() => {
  requireUwsgi();
  requireBuild();
});

afterEach(async () => {
  killAllUwsgi();
  await Promise.all(uwsgis.map((u) => Promise.race([u.exited, sleep(3000)])));
  uwsgis = [];
  await lab?.cleanup();
});

afterAll(() => {
  process.off('exit', killAllUwsgi);
});

interface NodeSpec {
  name: string;
  kind: 'uwsgi' | 'legiond';
  valor: number;
  scroll?: string;
}

interface Cluster {
  hookFile: string;
  secretFile: string;
  ports: Map<string, number>;
  uw: Map<string, UwsgiNode>;
  ld: Map<string, Proc>;
  valorOf: Map<string, number>;
}

/** Starts every node with every other one as its unicast peer; ports base, base+1, ... */
async function cluster(base: number, specs: NodeSpec[], quorum?: number): Promise<Cluster> {
  lab = new Lab('legiond-interop-');
  const c: Cluster = {
    hookFile: lab.path('hooks.log'),
    secretFile: lab.secret('secret', `${SECRET}\n`),
    ports: new Map(specs.map((s, i) => [s.name, base + i])),
    uw: new Map(),
    ld: new Map(),
    valorOf: new Map(specs.map((s) => [s.name, s.valor])),
  };
  for (const s of specs) {
    const port = c.ports.get(s.name)!;
    const peers = [...c.ports.values()].filter((p) => p !== port);
    const common = {
      name: s.name,
      port,
      valor: s.valor,
      peers,
      hookFile: c.hookFile,
      quorum,
      scroll: s.scroll,
    };
    if (s.kind === 'uwsgi') {
      const u = startUwsgi({ ...common, secret: SECRET });
      uwsgis.push(u);
      c.uw.set(s.name, u);
    } else {
      c.ld.set(s.name, startLegiond(lab, { ...common, secretFile: c.secretFile }));
    }
  }
  await Promise.all([...c.ld.values()].map((p) => p.ready(30_000)));
  return c;
}

function diag(c: Cluster): string {
  const out = [`hooks: ${JSON.stringify(hookLines(c.hookFile))}`];
  for (const [n, u] of c.uw)
    out.push(
      `--- uWSGI ${n}\n${u.log
        .filter((l) => /legion/i.test(l))
        .slice(-12)
        .join('\n')}`,
    );
  for (const [n, p] of c.ld)
    out.push(
      `--- legiond ${n}\n${p.lines
        .slice(-12)
        .map((l) => JSON.stringify(l))
        .join('\n')}`,
    );
  return out.join('\n');
}

/** members are matched by valor (unique here): every uWSGI node announces the same host name */
function lordRows(rows: MemberRow[]): MemberRow[] {
  return rows.filter((r) => r.lord);
}

/**
 * Waits until `lord` ran its lord hook and every live legiond node lists exactly the live nodes,
 * with `lord` (and only it) as lord; then checks nothing changes for QUIET_MS.
 * Returns the hook lines written since `mark`.
 */
async function settledOn(
  c: Cluster,
  lord: string,
  live: string[],
  mark: number,
  quiet = true,
): Promise<string[]> {
  await until(
    `LORD ${lord} in the hook file`,
    WAIT_MS,
    () => (hookLines(c.hookFile).slice(mark).includes(`LORD ${lord}`) ? true : undefined),
    () => diag(c),
  );
  const want = c.valorOf.get(lord)!;
  const liveValors = live.map((n) => String(c.valorOf.get(n))).sort();
  const legionds = live.filter((n) => c.ld.has(n));
  const agreed = (): true | undefined => {
    for (const n of legionds) {
      const rows = members(lab, n);
      if (rows === null) return undefined;
      if (JSON.stringify(rows.map((r) => r.valor).sort()) !== JSON.stringify(liveValors)) return undefined;
      const lords = lordRows(rows);
      if (lords.length !== 1 || lords[0]!.valor !== String(want)) return undefined;
    }
    return true;
  };
  await until(`every legiond node to list ${live.join(',')} with lord ${lord}`, WAIT_MS, agreed, () =>
    diag(c),
  );
  if (quiet) {
    await sleep(QUIET_MS);
    // the same view after the quiet period (retried: one slow announce on a loaded host may
    // briefly hide a member, but a different lord would not come back)
    await until(`the same view ${QUIET_MS} ms later`, 15_000, agreed, () => diag(c));
  }
  return hookLines(c.hookFile).slice(mark);
}

const FOUR: NodeSpec[] = [
  { name: 'u1', kind: 'uwsgi', valor: 40 },
  { name: 'l1', kind: 'legiond', valor: 30 },
  { name: 'u2', kind: 'uwsgi', valor: 20 },
  { name: 'l2', kind: 'legiond', valor: 10 },
];

describe('two uWSGI and two legiond nodes agree on one lord', () => {
  // quorum 4: nobody may claim the title before all four agree, so the only lord hook ever run is
  // the expected node's
  it.each([
    { highest: 'u1', kind: 'uwsgi', specs: FOUR, base: 47100 },
    {
      highest: 'l2',
      kind: 'legiond',
      base: 47110,
      specs: [
        { name: 'u1', kind: 'uwsgi', valor: 30 },
        { name: 'l1', kind: 'legiond', valor: 20 },
        { name: 'u2', kind: 'uwsgi', valor: 10 },
        { name: 'l2', kind: 'legiond', valor: 40 },
      ] as NodeSpec[],
    },
  ])('when a $kind node holds the highest valor', async ({ highest, specs, base }) => {
    const c = await cluster(base, specs, 4);
    const lines = await settledOn(
      c,
      highest,
      specs.map((s) => s.name),
      0,
    );
    expect(lines).toEqual([`LORD ${highest}`]);
    // each uWSGI node reached quorum on the same candidate (its one-time quorum report)
    for (const [n, u] of c.uw) {
      const report = u.log.find((l) => l.includes('WE HAVE QUORUM'));
      expect(report, `${n} never reached quorum\n${diag(c)}`).toBeDefined();
      expect(report).toContain(`(valor: ${c.valorOf.get(highest)} `);
    }
  });
});

describe('failover between uWSGI and legiond lords', () => {
  /** kill the lord twice: first a uWSGI lord (next best: legiond), then that legiond lord (next: uWSGI) */
  async function chain(base: number, how: { uwsgi: 'SIGKILL' | 'SIGINT'; legiond: 'SIGKILL' | 'SIGTERM' }) {
    const c = await cluster(base, FOUR);
    let live = FOUR.map((s) => s.name);
    await settledOn(c, 'u1', live, 0);
    expect([...netLordship(hookLines(c.hookFile))].filter(([, n]) => n !== 0)).toEqual([['u1', 1]]);

    for (const [victim, next] of [
      ['u1', 'l1'],
      ['l1', 'u2'],
    ] as const) {
      const mark = hookLines(c.hookFile).length;
      const u = c.uw.get(victim);
      if (u) {
        u.kill(how.uwsgi);
        await u.exited;
      } else {
        const p = c.ld.get(victim)!;
        p.kill(how.legiond);
        await p.exited;
      }
      live = live.filter((n) => n !== victim);
      const since = await settledOn(c, next, live, mark);
      // only the next lord's lord hook ran; no survivor unlorded
      expect(
        since.filter((l) => l.startsWith('LORD ')),
        diag(c),
      ).toEqual([`LORD ${next}`]);
      for (const n of live) expect(since, diag(c)).not.toContain(`UNLORD ${n}`);
      if (c.ld.has(victim) && how.legiond === 'SIGTERM') {
        // a legiond lord leaving cleanly unlords before its death announce lets the next one in
        expect(since.indexOf(`UNLORD ${victim}`), diag(c)).toBeGreaterThanOrEqual(0);
        expect(since.indexOf(`UNLORD ${victim}`)).toBeLessThan(since.indexOf(`LORD ${next}`));
      }
    }
  }

  it('SIGKILL of a uWSGI lord, then of a legiond lord', async () => {
    await chain(47120, { uwsgi: 'SIGKILL', legiond: 'SIGKILL' });
  });

  it('clean exit of a uWSGI lord (SIGINT), then of a legiond lord (SIGTERM)', async () => {
    await chain(47130, { uwsgi: 'SIGINT', legiond: 'SIGTERM' });
  });
});

describe('what legiond shows of uWSGI nodes', () => {
  it('a scroll set with --legion-scroll is listed by legionctl members', async () => {
    const c = await cluster(47140, [
      { name: 'u1', kind: 'uwsgi', valor: 20, scroll: 'addr=10.0.0.5:6379' },
      { name: 'l1', kind: 'legiond', valor: 10 },
    ]);
    const row = await until(
      'the uWSGI member with its scroll',
      WAIT_MS,
      () => members(lab, 'l1')?.find((r) => r.valor === '20' && r.scroll !== ''),
      () => diag(c),
    );
    expect(row.scroll).toBe('addr=10.0.0.5:6379');
    expect(row.name).not.toBe('l1');
  });
});

/** An announce as a uWSGI node would send it, from a node that would win every election. */
function intruder(unix: number, over: Partial<UwsgiAnnounce> = {}): UwsgiAnnounce {
  const uuid = 'ffffffff-0000-4000-8000-000000000001';
  return {
    legion: LEGION,
    valor: 60000n,
    unix,
    lord: 0,
    name: 'intruder',
    pid: 4242,
    uuid,
    checksum: 0n,
    lordValor: 60000n,
    lordUuid: uuid,
    scroll: null,
    dead: false,
    ...over,
  };
}

async function sendTo(port: number, packets: Uint8Array[]): Promise<void> {
  const sock = dgram.createSocket('udp4');
  try {
    for (const p of packets)
      await new Promise<void>((r, j) => sock.send(p, port, '127.0.0.1', (e) => (e ? j(e) : r())));
  } finally {
    sock.close();
  }
}

function codeOf(codec: UwsgiCodec, bytes: Uint8Array): string {
  try {
    codec.decode(bytes, Date.now());
    return 'accepted';
  } catch (e) {
    return isLegiondError(e) ? e.code : `unexpected ${String(e)}`;
  }
}

describe('legiond drops bad uWSGI packets and keeps its lord', () => {
  const te = new TextEncoder();
  const codec = () => new UwsgiCodec({ legion: LEGION, cipher: CIPHER, secret: te.encode(SECRET) });

  /** a uWSGI node and a legiond lord that agree, before anything bad is sent */
  async function pair(base: number) {
    const c = await cluster(base, [
      { name: 'u1', kind: 'uwsgi', valor: 10 },
      { name: 'l1', kind: 'legiond', valor: 20 },
    ]);
    await settledOn(c, 'l1', ['u1', 'l1'], 0, false);
    return c;
  }

  function stillLord(c: Cluster, before: number): void {
    expect(c.ld.get('l1')!.child.exitCode).toBeNull();
    const s = status(lab, 'l1');
    expect(s?.lord?.name, diag(c)).toBe('l1');
    const rows = members(lab, 'l1') ?? [];
    expect(rows.map((r) => r.valor).sort()).toEqual(['10', '20']);
    expect(hookLines(c.hookFile).slice(before)).toEqual([]);
    // a forged packet that got through would have made the intruder a member, if only for a moment
    expect(c.ld.get('l1')!.lines.filter((l) => l.member === 'intruder')).toEqual([]);
  }

  it('a packet encrypted with another secret: ERR_AUTH, counted, lord unchanged', async () => {
    const c = await pair(47150);
    const mark = hookLines(c.hookFile).length;
    const wrong = new UwsgiCodec({ legion: LEGION, cipher: CIPHER, secret: te.encode('not-the-secret') });
    const right = codec();
    const now = Math.floor(Date.now() / 1000);
    // well-formed apart from the key; CBC without a MAC lets 1 in ~256 wrong keys pass the padding
    // check (then the length check drops it), so send only those that fail at the padding
    const forged: Uint8Array[] = [];
    for (let i = 0; forged.length < 3 && i < 200; i++) {
      const p = wrong.encode(intruder(now + 5, { pid: 4242 + i }));
      expect(codeOf(wrong, p)).toBe('accepted');
      if (codeOf(right, p) === 'ERR_AUTH') forged.push(p);
    }
    expect(forged).toHaveLength(3);
    await sendTo(c.ports.get('l1')!, forged);
    const s = await until(
      'rejected.ERR_AUTH to count 3',
      WAIT_MS,
      () => {
        const st = status(lab, 'l1');
        return (st?.counters.rejected.ERR_AUTH ?? 0) >= 3 ? st : undefined;
      },
      () => diag(c),
    );
    expect(s!.counters.rejected.ERR_AUTH).toBe(3);
    await sleep(QUIET_MS);
    stillLord(c, mark);
    // control: the same announce under the right secret is taken in, so only the key was wrong
    await sendTo(c.ports.get('l1')!, [right.encode(intruder(Math.floor(Date.now() / 1000)))]);
    await c.ld
      .get('l1')!
      .waitFor((l) => l.event === 'node-joined' && l.member === 'intruder', WAIT_MS, 'the intruder to join');
  });

  it('length mismatch, bad padding, a missing key, a 1000-byte UUID: each dropped and counted by code', async () => {
    const c = await pair(47160);
    const mark = hookLines(c.hookFile).length;
    const right = codec();
    const now = Math.floor(Date.now() / 1000);
    const good = right.encode(intruder(now + 5));
    expect(codeOf(right, good)).toBe('accepted');
    const cases = badPackets(good, now + 5);
    const want: Record<string, number> = {};
    for (const { what, bytes, code } of cases) {
      // the daemon runs this very decoder: make sure each packet is bad for the reason named
      expect(codeOf(right, bytes), what).toBe(code);
      want[code] = (want[code] ?? 0) + 1;
    }
    const before = status(lab, 'l1')!.counters.rejected;
    await sendTo(
      c.ports.get('l1')!,
      cases.map((x) => x.bytes),
    );
    const after = await until(
      `${cases.length} more rejected packets`,
      WAIT_MS,
      () => {
        const r = status(lab, 'l1')?.counters.rejected;
        return r !== undefined && total(r) >= total(before) + cases.length ? r : undefined;
      },
      () => diag(c),
    );
    expect(delta(before, after)).toEqual(want);
    await sleep(QUIET_MS);
    stillLord(c, mark);
  });
});

function total(r: Record<string, number>): number {
  return Object.values(r).reduce((a, b) => a + b, 0);
}

function delta(a: Record<string, number>, b: Record<string, number>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const [k, v] of Object.entries(b)) if (v !== (a[k] ?? 0)) out[k] = v - (a[k] ?? 0);
  return out;
}

/** Packets built by hand with node:crypto, each bad in exactly one way. */
function badPackets(good: Uint8Array, unix: number) {
  const uuid = 'ffffffff-0000-4000-8000-000000000002';
  const fields = (over: Record<string, string | null>): Array<[string, string]> =>
    Object.entries({
      legion: LEGION,
      valor: '60000',
      unix: String(unix),
      lord: '0',
      name: 'intruder',
      pid: '4242',
      uuid,
      checksum: '0',
      lord_valor: '60000',
      lord_uuid: uuid,
      ...over,
    }).filter((e): e is [string, string] => e[1] !== null);
  const mismatch = Uint8Array.from(good);
  const declared = good[1]! | (good[2]! << 8);
  mismatch[1] = (declared + 1) & 0xff;
  mismatch[2] = (declared + 1) >> 8;
  return [
    { what: 'length mismatch', bytes: mismatch, code: 'ERR_MALFORMED' },
    { what: 'bad padding', bytes: packet(body(fields({})), { padding: 'zeros' }), code: 'ERR_AUTH' },
    { what: 'missing uuid key', bytes: packet(body(fields({ uuid: null }))), code: 'ERR_MALFORMED' },
    {
      what: '1000-byte uuid',
      bytes: packet(body(fields({ uuid: 'u'.repeat(1000) }))),
      code: 'ERR_MALFORMED',
    },
    {
      what: 'not a legion packet',
      bytes: Uint8Array.of(110, 0, 0, 0, ...good.subarray(4)),
      code: 'ERR_BAD_MAGIC',
    },
    { what: 'shorter than the header', bytes: Uint8Array.of(109, 0), code: 'ERR_TRUNCATED' },
  ];
}

function body(fields: Array<[string, string]>): Buffer {
  return Buffer.concat(
    fields.map(([k, v]) => {
      const kb = Buffer.from(k, 'latin1');
      const vb = Buffer.from(v, 'latin1');
      const out = Buffer.alloc(4 + kb.length + vb.length);
      out.writeUInt16LE(kb.length, 0);
      kb.copy(out, 2);
      out.writeUInt16LE(vb.length, 2 + kb.length);
      vb.copy(out, 4 + kb.length);
      return out;
    }),
  );
}

/** uWSGI's encryption: key = secret NUL-padded, IV = sixteen '0'; `zeros` pads with 0x00 bytes (invalid PKCS#7) */
function packet(clear: Buffer, o: { padding?: 'pkcs7' | 'zeros' } = {}): Uint8Array {
  const key = Buffer.alloc(16, 0);
  Buffer.from(SECRET).copy(key);
  const c = createCipheriv(CIPHER, key, Buffer.alloc(16, '0'));
  let input = clear;
  if (o.padding === 'zeros') {
    c.setAutoPadding(false);
    input = Buffer.concat([clear, Buffer.alloc(16 - (clear.length % 16), 0)]);
  }
  const ct = Buffer.concat([c.update(input), c.final()]);
  const header = Buffer.from([109, clear.length & 0xff, clear.length >> 8, 0]);
  return new Uint8Array(Buffer.concat([header, ct]));
}
