/**
 * `npx tsx bench/engines.ts [--k 5] [--only id,id] [--no-load]` (build first when legiond rows
 * are included): strong mode side by side. For each subject (legiond on each backend, and the
 * references run in the same run: `etcdctl elect` and a PostgreSQL session advisory-lock runner of
 * the OCA/queue kind), clean failover (SIGTERM of the member running the workload) and crash
 * failover (SIGKILL of its process group) p50/p95/max over K runs, measured from the signal to
 * the first write of the next member's workload (test/helpers/workload.ts); the most workloads
 * seen at once; and the engine load, requests per second per member at N = 3 and N = 50
 * (PostgreSQL: statements from pg_stat_statements; etcd: gRPC messages received, from /metrics).
 * Writes bench/results/engines.md and engines.json. Prints figures, never asserts.
 */
import { writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { Command } from 'commander';
import { PgServer } from '../test/helpers/pg-server.js';
import { legiondSubjects } from './lib/engine-legiond.js';
import { BENCH_ROOT, etcdElectSubject, pgAdvisorySubject, type Subject } from './lib/engine-subjects.js';
import { type FailoverResult, failover, type LoadResult, load } from './lib/engine-trials.js';
import { EtcdServer } from './lib/etcd-server.js';
import { dur, durTriple, num, table } from './lib/format.js';
import { installCleanup } from './lib/procs.js';
import { summarize } from './lib/stats.js';
import { WorkDir } from './lib/workdir.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

export interface Servers {
  pg: PgServer;
  etcd: EtcdServer;
  work: WorkDir;
}

interface Row {
  subject: Subject;
  failover?: FailoverResult;
  load: LoadResult[];
  errors: string[];
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--k <n>', 'trials per kind', '5')
    .option('--only <ids>', 'comma-separated subject ids')
    .option('--no-load', 'skip the engine load')
    .option('--no-failover', 'skip the failover trials')
    .option('--window <s>', 'load window in seconds', '10')
    .option('--sizes <list>', 'load sizes N', '3,50')
    .option('--out <name>', 'results name under bench/results', 'engines')
    .parse()
    .opts<{
      k: string;
      only?: string;
      load: boolean;
      failover: boolean;
      window: string;
      sizes: string;
      out: string;
    }>();
  const k = Number(o.k);
  installCleanup();
  const started = new Date();
  const load0 = loadavg();
  const work = new WorkDir();
  const pgServer = await PgServer.start({
    settings: { shared_preload_libraries: 'pg_stat_statements', 'pg_stat_statements.track': 'all' },
  });
  // the server is not one of the bench's process groups: an interrupted bench stops it here
  process.on('exit', () => pgServer.killNow());
  let etcd: EtcdServer | null = null;
  const rows: Row[] = [];
  try {
    await pgServer.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    etcd = await EtcdServer.start(work.sub('etcd'));
    const servers: Servers = { pg: pgServer, etcd, work };
    const subjects: Subject[] = [
      ...legiondSubjects(servers),
      etcdElectSubject(etcd.clientPort, () => etcd!.requests()),
      pgAdvisorySubject(pgServer.port, 250),
    ].filter((s) => !o.only || o.only.split(',').includes(s.id));
    for (const s of subjects) {
      const row: Row = { subject: s, load: [], errors: [] };
      rows.push(row);
      log(`== ${s.id}: ${s.label}`);
      try {
        const port = s.engine === 'postgres' ? pgServer.port : etcd.clientPort;
        if (o.failover) row.failover = await failover(s, work.sub(`${s.id}-failover`), k, port, log);
      } catch (e) {
        row.errors.push(`failover: ${e}`);
        log(`${s.id}: failover failed: ${e}`);
      }
      if (!o.load) continue;
      for (const n of o.sizes.split(',').map(Number)) {
        try {
          const r = await load(
            s,
            work.sub(`${s.id}-load-${n}`),
            n,
            Number(o.window) * 1000,
            s.loadWarmMs?.(n) ?? (n > 3 ? 8000 : 4000),
          );
          row.load.push(r);
          log(`${s.id}: load N=${n}: ${r.perNode.toFixed(2)} requests/s per member`);
        } catch (e) {
          row.errors.push(`load N=${n}: ${e}`);
          log(`${s.id}: load N=${n} failed: ${e}`);
        }
      }
    }
  } finally {
    await etcd?.stop();
    await pgServer.stop();
    if (!process.env.BENCH_KEEP) work.remove();
  }
  const md = render(rows, {
    started,
    ended: new Date(),
    k,
    load0,
    load1: loadavg(),
    windowS: Number(o.window),
  });
  const base = join(BENCH_ROOT, 'bench', 'results', o.out);
  writeFileSync(`${base}.md`, md);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify(
      rows.map((r) => ({
        id: r.subject.id,
        settings: r.subject.settings,
        failover: r.failover,
        load: r.load,
        errors: r.errors,
      })),
      null,
      1,
    )}\n`,
  );
  process.stdout.write(md);
}

interface Meta {
  started: Date;
  ended: Date;
  k: number;
  load0: number[];
  load1: number[];
  windowS: number;
}

function render(rows: Row[], m: Meta): string {
  const head = [
    'subject',
    'settings',
    'clean p50',
    'clean p95',
    'clean max',
    'crash p50',
    'crash p95',
    'crash max',
    'cut p50',
    'cut max',
    'runs (clean/crash/cut)',
    'max at once',
    'overlap total',
    'tokens increase',
    'req/s per member, N = 3',
    'N = 50',
  ];
  const body = rows.map((r) => {
    const f = r.failover;
    const clean = durTriple(summarize(f?.clean ?? []));
    const crash = durTriple(summarize(f?.crash ?? []));
    const cut = durTriple(summarize(f?.cut ?? []));
    const ld = (n: number) => {
      const x = r.load.find((l) => l.n === n);
      return x ? num(x.perNode, 2) : '—';
    };
    const timeouts =
      f && f.timeouts.clean + f.timeouts.crash + f.timeouts.cut > 0
        ? ` (timed out: ${f.timeouts.clean}/${f.timeouts.crash}/${f.timeouts.cut})`
        : '';
    return [
      r.subject.id,
      r.subject.settings,
      ...clean,
      ...crash,
      cut[0],
      cut[2],
      f ? `${f.clean.length}/${f.crash.length}/${f.cut.length}${timeouts}` : '—',
      f ? String(f.maxConcurrency) : '—',
      f ? dur(f.overlapMs) : '—',
      !f
        ? '—'
        : f.epochs.length === 0
          ? 'no token'
          : f.epochsIncrease
            ? `yes (${f.epochs.length} epochs)`
            : 'NO',
      ld(3),
      ld(50),
    ];
  });
  const errors = rows.flatMap((r) => [
    ...r.errors.map((e) => `- ${r.subject.id}: ${e.split('\n')[0]}`),
    ...(r.failover?.errors ?? []).map((e) => `- ${r.subject.id}: ${e.split('\n')[0]}`),
  ]);
  const mins = ((m.ended.getTime() - m.started.getTime()) / 60_000).toFixed(1);
  return [
    '# Strong mode: legiond on an engine, beside the references',
    '',
    `Run ${m.started.toISOString()} – ${m.ended.toISOString()} (${mins} min), \`npx tsx bench/engines.ts --k ${m.k}\`.`,
    `Host: ${cpus().length} × ${cpus()[0]?.model ?? 'CPU'}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB; Node ${process.version}; PostgreSQL 15, etcd 3.4 (single member), all on loopback.`,
    `Load average at start ${m.load0.map((x) => x.toFixed(1)).join(' ')}, at end ${m.load1.map((x) => x.toFixed(1)).join(' ')}: the machine is shared, so latencies carry scheduling noise.`,
    '',
    'Failover: from the fault (clean: SIGTERM of the member running the workload; crash: SIGKILL of its process group, workload included; cut: the proxy between that member and the engine silently drops everything, a half-open connection as when its host\'s network dies, while the others still reach the engine) to the first write of the next member\'s workload (`test/helpers/workload.ts`, a line every 20 ms, so figures carry up to 20 ms of sampling). Three members, each through its own proxy; a cut trial not over within its bound counts as timed out (the cut-off member then still holds the title); after each trial the link is healed, the member started again and the legion left 2 s to settle. "max at once": the most workloads running at one instant over the whole run (1 is right); "overlap total": how long two ran at once. Load: engine requests per second per member in steady state over a ' +
      `${m.windowS} s window (PostgreSQL: statements counted by pg_stat_statements; etcd: gRPC messages received, from /metrics, lease keep-alives included).`,
    '',
    table(head, body),
    '',
    ...rows.map(
      (r) =>
        `- ${r.subject.id}: ${r.subject.label}${r.subject.notes ? `. ${r.subject.notes.join(' ')}` : ''}`,
    ),
    ...(errors.length ? ['', 'Errors (not counted above):', ...errors] : []),
    '',
  ].join('\n');
}

await main().catch((e: unknown) => {
  log(`bench/engines: ${e instanceof Error ? e.stack : e}`);
  process.exit(1);
});
