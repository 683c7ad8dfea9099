/**
 * Client-visible downtime of a VIP failover (config/hooks/vip.sh) on a network-namespace LAN:
 * three hosts and a client on a bridge, legiond on each host (quorum 2, interval 250ms,
 * tolerance 1s), the client polling a name-answering HTTP server through the VIP with a fresh
 * connection every ~10 ms (50 ms timeout). Downtime is the time from the client's last answer
 * from the old lord to its first answer from the new one.
 *
 *   kill       SIGKILL of the lord's legiond and of its HTTP server (a crash; the address stays)
 *   term       SIGTERM of the lord's legiond (a clean stop: unlord hook, then death announce)
 *   part       the lord's host cut off (iptables), lord_delay 0
 *   part-delay the same with lord_delay 500ms, as the README advises for VIPs
 *
 * For each it also reads the hooks' own log (vip.sh's VIP_LOG): when the new lord added the
 * address, and the gap from the old lord's removal to that add (negative: both held it).
 *
 * Needs root. Usage: npx tsx bench/vip-downtime.ts [trials]  (default 5 per kind). Progress goes
 * to stderr; a table and, on the last line, {"vip": {...}} go to stdout.
 */
import { type Answer, hookFinished, VipCluster } from '../test/netns/helpers.js';
import { requireNetns } from '../test/netns/topology.js';
import { type Summary, summarize } from './lib/stats.js';

const KINDS = ['kill', 'term', 'part', 'part-delay'] as const;
type Kind = (typeof KINDS)[number];

/** A request on this LAN takes a few ms; the timeout bounds how late a dead request is noticed. */
const POLL = { pauseMs: 10, timeoutMs: 50 };

interface Trial {
  downtimeMs: number;
  /** from the kill, signal or cut to the new lord's add */
  addMs: number;
  /** from the old lord's removal to the new lord's add; NaN when the old lord never removed it */
  gapMs: number;
  /** why h2 saw h1 leave: 'death' (its death announce) or 'timeout' */
  leftBy: string;
}

async function trial(c: VipCluster, kind: Kind): Promise<Trial> {
  await c.resetHosts();
  await c.startLegion([300, 200, 100], 'h1', kind === 'part-delay' ? ['--lord-delay', '500ms'] : []);
  // a few answers in a row: the client's ARP entry is settled on h1
  let steady = await c.waitAnswer('h1', Date.now(), 5000);
  for (let i = 0; i < 3; i++) steady = await c.waitAnswer('h1', steady.t, 5000);
  const notesBefore = c.notes().length;
  let t0 = Date.now();
  if (kind === 'kill') {
    c.daemon('h1').kill('SIGKILL');
    c.servers.get('h1')!.kill('SIGKILL');
  } else if (kind === 'term') {
    c.daemon('h1').kill('SIGTERM');
  } else {
    await c.lan.isolate(c.host('h1'), true);
    // the cut is in force once the rules are in; that can take a while on a loaded machine
    t0 = Date.now();
  }
  const first = await c.waitAnswer('h2', t0, 10_000);
  const last = c
    .answers()
    .filter((a: Answer) => a.ok && a.body === 'h1' && a.t < first.t)
    .at(-1);
  if (!last) throw new Error('no answer from h1 before the failover');
  if (kind !== 'kill') await c.daemon('h1').waitFor(hookFinished('unlord'), 10_000, "h1's unlord hook");
  const notes = c.notes().slice(notesBefore);
  const up = notes.find((n) => n.node === 'h2' && n.action === 'up');
  const down = notes.find((n) => n.node === 'h1' && n.action === 'down');
  const upMs = (up?.t ?? Number.NaN) * 1000;
  const left = c
    .daemon('h2')
    .events('node-left')
    .find((l) => l.member === 'h1');
  return {
    downtimeMs: first.t - last.t,
    addMs: upMs - t0,
    gapMs: upMs - (down?.t ?? Number.NaN) * 1000,
    leftBy: String(left?.reason ?? 'still there'),
  };
}

const round1 = (v: number) => Math.round(v * 10) / 10;
const round = (s: Summary | null) =>
  s && Object.fromEntries(Object.entries(s).map(([k, v]) => [k, k === 'n' ? v : round1(v)]));
const finite = (vs: number[]) => vs.filter(Number.isFinite);
const col = (v: number | undefined) => (v === undefined ? '-' : v.toFixed(0)).padStart(6);

async function main(): Promise<void> {
  const trials = Number(process.argv[2] ?? 5);
  if (!Number.isInteger(trials) || trials < 1) {
    throw new Error(`trials must be a positive integer, not ${process.argv[2]}`);
  }
  requireNetns();
  const c = new VipCluster(2, 'lgb');
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      c.destroyNow();
      process.exit(130);
    });
  }
  const results = Object.fromEntries(KINDS.map((k) => [k, [] as Trial[]])) as Record<Kind, Trial[]>;
  try {
    await c.start(POLL);
    for (let i = 0; i < trials; i++) {
      for (const kind of KINDS) {
        const r = await trial(c, kind);
        results[kind].push(r);
        process.stderr.write(
          `trial ${i + 1}/${trials} ${kind}: downtime ${r.downtimeMs.toFixed(1)} ms, add ${r.addMs.toFixed(1)} ms, gap ${r.gapMs.toFixed(1)} ms, h2 saw h1 leave by ${r.leftBy}\n`,
        );
      }
    }
  } finally {
    await c.close();
  }

  const out: Record<string, unknown> = { trials, poll: POLL, interval: '250ms', tolerance: '1s', quorum: 2 };
  console.log('VIP failover (ms). down: client-visible downtime; add: event to new lord adding the VIP;');
  console.log('gap: old lord removing it to new lord adding it (negative: on two hosts at once)');
  console.log('kind         n  down p50   p95   max  add p50   max  gap min   p50  overlaps  h1 left by');
  for (const kind of KINDS) {
    const rs = results[kind];
    const d = summarize(rs.map((r) => r.downtimeMs));
    const a = summarize(finite(rs.map((r) => r.addMs)));
    const g = summarize(finite(rs.map((r) => r.gapMs)));
    const overlaps = rs.filter((r) => r.gapMs < 0).length;
    const leftBy: Record<string, number> = {};
    for (const r of rs) leftBy[r.leftBy] = (leftBy[r.leftBy] ?? 0) + 1;
    console.log(
      `${kind.padEnd(11)}${String(rs.length).padStart(3)}    ${col(d?.p50)}${col(d?.p95)}${col(d?.max)}   ${col(a?.p50)}${col(a?.max)}   ${col(g?.min)}${col(g?.p50)}  ${kind === 'kill' ? '     -' : String(overlaps).padStart(6)}  ${Object.entries(
        leftBy,
      )
        .map(([w, n]) => `${w} ${n}`)
        .join(', ')}`,
    );
    out[kind] = {
      downtimeMs: round(d),
      addMs: round(a),
      gapMs: round(g),
      overlaps: kind === 'kill' ? null : overlaps,
      leftBy,
      downtimeSamplesMs: rs.map((r) => round1(r.downtimeMs)),
    };
  }
  console.log(JSON.stringify({ vip: out }));
}

main().catch((e: unknown) => {
  process.stderr.write(`vip-downtime: ${e instanceof Error ? e.message : String(e)}\n`);
  process.exit(1);
});
