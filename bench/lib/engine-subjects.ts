/**
 * The subjects of bench/engines.ts: something that elects one member through an engine and runs
 * a lord-only workload there. The references (a PostgreSQL advisory-lock runner, `etcdctl elect`)
 * and legiond on each backend all fit the same shape, so one trial loop measures them all.
 */
import { join, resolve } from 'node:path';
import pg from 'pg';
import { type Proc, spawnProc } from './procs.js';

export const BENCH_ROOT = resolve(import.meta.dirname, '..', '..');

export interface Subject {
  id: string;
  label: string;
  /** how it was configured, for the table */
  settings: string;
  /** which server its members talk to (each member reaches it through its own proxy) */
  engine: 'postgres' | 'etcd';
  /** start member `name`, whose lord-only workload is `workload` (argv), on the engine at `port` */
  spawn(name: string, workload: string[], dir: string, port: number): Proc;
  /** start `n` members for the engine load (no workload needed; may be one process) */
  spawnLoad(n: number, dir: string): Proc[];
  /** how long `n` load members need to reach steady state (default 4 s, 8 s above N = 3) */
  loadWarmMs?: (n: number) => number;
  /** engine requests counted so far, for the load figure */
  requests(): Promise<number>;
  /** a crash trial is given up after this long */
  crashBoundMs: number;
  /** crash and cut trials (default K): a subject whose failover takes a minute runs fewer */
  crashTrials?: number;
  /** a cut trial (the member's link to the engine silently dropped) is given up after this long */
  cutBoundMs: number;
  /** said under the table */
  notes?: string[];
}

/** `node --import tsx FILE ARGS` from the repository root */
function tsxProc(name: string, file: string, args: string[], logFile: string): Proc {
  return spawnProc(name, process.execPath, ['--import', 'tsx', join(BENCH_ROOT, file), ...args], {
    logFile,
    cwd: BENCH_ROOT,
  });
}

/** statements PostgreSQL executed so far, from pg_stat_statements, leaving out the counting itself */
export async function pgStatements(url: string): Promise<number> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const r = await c.query<{ n: string | null }>(
      "SELECT sum(calls)::text AS n FROM pg_stat_statements WHERE query NOT ILIKE '%pg_stat_statements%'",
    );
    return Number(r.rows[0]?.n ?? 0);
  } finally {
    await c.end();
  }
}

export const pgUrl = (port: number) => `postgresql://postgres@127.0.0.1:${port}/postgres`;

export function pgAdvisorySubject(pgPort: number, pollMs: number): Subject {
  const url = pgUrl(pgPort);
  const key = String(700_000 + Math.floor(Math.random() * 100_000));
  return {
    id: 'pg-advisory',
    label: 'reference: PostgreSQL session advisory lock runner (OCA/queue style)',
    settings: `pg_try_advisory_lock poll ${pollMs} ms, lock held by the session`,
    engine: 'postgres',
    spawn: (name, workload, dir, port) =>
      tsxProc(
        name,
        'bench/lib/pg-advisory-runner.ts',
        [pgUrl(port), key, String(pollMs), name, '--', ...workload],
        join(dir, `${name}.log`),
      ),
    spawnLoad: (n, dir) => [
      tsxProc(
        `advisory-x${n}`,
        'bench/lib/pg-advisory-runner.ts',
        [url, `${key}1`, String(pollMs), 'load', String(n), '--'],
        join(dir, `load-${n}.log`),
      ),
    ],
    requests: () => pgStatements(url),
    crashBoundMs: 30_000,
    // the server keeps a half-open session's lock until its TCP keepalive: 2 h by default
    cutBoundMs: 20_000,
  };
}

export function etcdElectSubject(etcdPort: number, requests: () => Promise<number>): Subject {
  const endpoint = `127.0.0.1:${etcdPort}`;
  const election = `bench-${Math.floor(Math.random() * 1e9)}`;
  return {
    id: 'etcdctl-elect',
    label: 'reference: etcdctl elect (Debian etcd-client 3.4)',
    settings: 'session lease TTL 60 s (fixed in etcdctl 3.4), keep-alive every TTL/3',
    engine: 'etcd',
    spawn: (name, workload, dir, port) =>
      tsxProc(
        name,
        'bench/lib/etcd-elect-runner.ts',
        [`127.0.0.1:${port}`, election, name, '--', ...workload],
        join(dir, `${name}.log`),
      ),
    spawnLoad: (n, dir) =>
      Array.from({ length: n }, (_, i) =>
        spawnProc(`elect-${i}`, 'etcdctl', ['--endpoints', endpoint, 'elect', `${election}-load`, `m${i}`], {
          logFile: join(dir, `load-${n}.log`),
        }),
      ),
    requests,
    crashBoundMs: 90_000,
    cutBoundMs: 90_000,
    crashTrials: 2,
  };
}
