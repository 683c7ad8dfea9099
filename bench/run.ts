/**
 * `npm run bench [-- --long] [-- --only failover,cost,throughput,sim]`: runs the benchmark set and
 * writes bench/results/latest.md and latest.json (`--out NAME` for another name). BENCH_LONG=1 is
 * the same as --long. Progress goes to stderr.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { costConfigs, measureRssBaseline, runCost } from './cost.js';
import { type FailoverProfile, type FailoverRow, failoverProfiles, runFailoverProfile } from './failover.js';
import { LEGIOND_CLI, REPO_ROOT } from './lib/legiond-node.js';
import { installCleanup, killAllNow } from './lib/procs.js';
import { uwsgiVersion } from './lib/uwsgi-node.js';
import { WorkDir } from './lib/workdir.js';
import { renderMarkdown } from './report.js';
import type { BenchMeta, BenchResults } from './results.js';
import { runSimFailover, simFailoverProfiles } from './sim-failover.js';
import { runSimLoss, simLossPlan } from './sim-loss.js';
import { checkTargets } from './targets.js';
import { runThroughput } from './throughput.js';

const PARTS = ['throughput', 'sim', 'failover', 'cost'] as const;
type Part = (typeof PARTS)[number];

const log = (line: string) => process.stderr.write(`${line}\n`);

function git(args: string[]): string | null {
  try {
    return execFileSync('git', args, {
      cwd: REPO_ROOT,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return null;
  }
}

function newestMtimeMs(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    newest = Math.max(newest, e.isDirectory() ? newestMtimeMs(p) : statSync(p).mtimeMs);
  }
  return newest;
}

function distLag(): number | null {
  try {
    return Math.round((newestMtimeMs(join(REPO_ROOT, 'src')) - statSync(LEGIOND_CLI).mtimeMs) / 1000);
  } catch {
    return null;
  }
}

function baseMeta(long: boolean, only: Part[] | null): BenchMeta {
  return {
    set: long ? 'long' : 'quick',
    startedAt: new Date().toISOString(),
    finishedAt: '',
    wallS: 0,
    commit: git(['rev-parse', '--short', 'HEAD']),
    dirtyTree: (git(['status', '--porcelain']) ?? '') !== '',
    distOlderThanSrcS: distLag(),
    node: process.version,
    uwsgi: uwsgiVersion(),
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? '?',
    memGiB: totalmem() / 2 ** 30,
    loadAvgStart: loadavg(),
    loadAvgEnd: [],
    sectionsS: {},
    only,
  };
}

async function main(): Promise<void> {
  const opts = new Command('bench')
    .option('--long', 'the long set (more trials, longer windows, a simulated hour per loss level)')
    .option('--only <parts>', `comma-separated subset of ${PARTS.join(', ')}`)
    .option('--out <name>', 'results file name in bench/results, without extension', 'latest')
    .option('--render', 'rewrite the .md (and targets) from the existing .json, running nothing')
    .parse(process.argv)
    .opts<{ long?: boolean; only?: string; out: string; render?: boolean }>();
  if (opts.render) {
    render(opts.out);
    return;
  }
  const long = opts.long === true || process.env.BENCH_LONG === '1';
  const only = opts.only ? (opts.only.split(',').map((s) => s.trim()) as Part[]) : null;
  for (const p of only ?? [])
    if (!PARTS.includes(p)) throw new Error(`unknown part "${p}" (${PARTS.join(', ')})`);
  const want = (p: Part) => only === null || only.includes(p);

  if ((want('failover') || want('cost')) && !existsSync(LEGIOND_CLI)) {
    throw new Error(`${LEGIOND_CLI} is missing: build first (npm run bench does)`);
  }
  installCleanup();
  const t0 = performance.now();
  const work = new WorkDir();
  const r: Omit<BenchResults, 'targets'> = {
    meta: baseMeta(long, only),
    failover: [],
    simFailover: [],
    cost: [],
    rssBaseline: null,
    throughput: null,
    simLoss: [],
    errors: [],
  };
  const guard = async (what: string, f: () => Promise<void>) => {
    log(`bench: ${what}`);
    const started = performance.now();
    try {
      await f();
      r.meta.sectionsS[what] = Math.round((performance.now() - started) / 100) / 10;
    } catch (e) {
      const msg = `${what}: ${e instanceof Error ? e.message : String(e)}`;
      r.errors.push(msg);
      log(`bench: ${msg}`);
    }
  };
  const profiles = failoverProfiles(long);
  try {
    // in-process and simulated work first: the real-process benches then have the CPU to themselves
    if (want('throughput')) {
      await guard('core throughput', async () => {
        r.throughput = runThroughput(long);
      });
    }
    if (want('sim')) {
      const legiondProfiles = profiles.filter((p) => p.impl === 'legiond');
      await guard('simulator failover', async () => {
        r.simFailover = await runSimFailover(simFailoverProfiles(legiondProfiles, long), log);
      });
      await guard('simulator loss', async () => {
        r.simLoss = await runSimLoss(simLossPlan(long), log);
      });
    }
    if (want('failover')) {
      const runnable = profiles.filter((p) => {
        if (p.impl === 'uwsgi' && r.meta.uwsgi === null) {
          r.errors.push(`failover ${p.id}: uWSGI is not installed`);
          return false;
        }
        return true;
      });
      const rows = new Map<string, FailoverRow[]>();
      const one = (p: FailoverProfile) =>
        guard(`failover ${p.id}`, async () => {
          rows.set(p.id, await runFailoverProfile(p, work, log));
        });
      // the two slow profiles wait out 15 s tolerances, mostly idle: run them side by side
      await Promise.all(runnable.filter((p) => p.slow).map(one));
      for (const p of runnable.filter((x) => !x.slow)) await one(p);
      for (const p of runnable) r.failover.push(...(rows.get(p.id) ?? []));
    }
    if (want('cost')) {
      await guard('memory baseline', async () => {
        r.rssBaseline = await measureRssBaseline(work);
      });
      for (const c of costConfigs(long)) {
        if (c.impl === 'uwsgi' && r.meta.uwsgi === null) continue;
        await guard(`cost ${c.id}`, async () => void r.cost.push(await runCost(c, work, log)));
      }
    }
  } finally {
    killAllNow();
    if (process.env.BENCH_KEEP === '1') log(`bench: scratch files kept in ${work.root}`);
    else work.remove();
  }
  r.meta.finishedAt = new Date().toISOString();
  r.meta.wallS = (performance.now() - t0) / 1000;
  r.meta.loadAvgEnd = loadavg();
  write(opts.out, { ...r, targets: checkTargets(r) });
}

const RESULTS_DIR = fileURLToPath(new URL('./results/', import.meta.url));

function write(name: string, results: BenchResults): void {
  const json = JSON.stringify(results, (_, v) => (typeof v === 'bigint' ? v.toString() : v), 2);
  writeFileSync(join(RESULTS_DIR, `${name}.json`), `${json}\n`);
  const md = renderMarkdown(results);
  writeFileSync(join(RESULTS_DIR, `${name}.md`), md);
  process.stdout.write(md);
}

function render(name: string): void {
  const r = JSON.parse(readFileSync(join(RESULTS_DIR, `${name}.json`), 'utf8')) as BenchResults;
  write(name, { ...r, targets: checkTargets(r) });
}

main().catch((e) => {
  killAllNow();
  process.stderr.write(`bench: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
