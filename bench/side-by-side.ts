/**
 * legiond and uWSGI's legion side by side in one run, at the same timing: uWSGI's default
 * (3 s / 15 s) and its fastest useful one (1 s / 3 s), N = 10 and 50, unicast; legiond also at
 * its own defaults. CPU (utime + stime), RSS, PSS and anonymous memory per node, printed as a
 * Markdown table and written to bench/results/side-by-side.{md,json}.
 *
 *   npm run build && npx tsx bench/side-by-side.ts [--n 10,50] [--window 20] [--only legiond]
 *
 * BENCH_PORTS=FIRST-LAST keeps its ports apart from another bench on the same machine.
 */
import { writeFileSync } from 'node:fs';
import { Command } from 'commander';
import { type CostConfig, type CostRow, runCost } from './cost.js';
import { installCleanup } from './lib/procs.js';
import { uwsgiVersion } from './lib/uwsgi-node.js';
import { WorkDir } from './lib/workdir.js';

interface Timing {
  label: string;
  intervalMs?: number;
  toleranceMs?: number;
}

const TIMINGS: Timing[] = [
  { label: '3 s / 15 s', intervalMs: 3000, toleranceMs: 15_000 },
  { label: '1 s / 3 s', intervalMs: 1000, toleranceMs: 3000 },
];

export function sideBySideConfigs(ns: number[], windowS: number, impls: string[]): CostConfig[] {
  const out: CostConfig[] = [];
  for (const n of ns) {
    if (impls.includes('legiond')) {
      out.push({
        id: `legiond-unicast-${n}-defaults`,
        impl: 'legiond',
        n,
        transport: 'unicast',
        settings: 'legiond defaults (250 ms / 1 s)',
        warmupS: 5,
        windowS,
      });
    }
    for (const t of TIMINGS) {
      for (const impl of ['legiond', 'uwsgi'] as const) {
        if (!impls.includes(impl)) continue;
        out.push({
          id: `${impl}-unicast-${n}-${t.intervalMs}`,
          impl,
          n,
          transport: 'unicast',
          settings: t.label,
          // uWSGI cannot say when it has converged: a few of its steps more
          warmupS: impl === 'uwsgi' ? (3 * t.intervalMs!) / 1000 + 3 : 5,
          windowS,
          intervalMs: t.intervalMs,
          toleranceMs: t.toleranceMs,
        });
      }
    }
  }
  return out;
}

const f1 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(1));
const f2 = (x: number | undefined) => (x === undefined ? '—' : x.toFixed(2));

export function sideBySideTable(rows: CostRow[]): string {
  const head =
    '| daemon | N | timing | CPU % of a core p50 / worst | RSS MiB p50 | PSS MiB p50 | anon MiB p50 | pkts in/s | window | notes |\n' +
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |\n';
  return (
    head +
    rows
      .map((r) => {
        const res = r.cpuResolutionPct;
        const cpu = (x: number | undefined) =>
          x === undefined ? '—' : x < res ? `< ${res.toFixed(2)}` : `${f2(x)}`;
        return `| ${r.impl} | ${r.n} | ${r.settings} | ${cpu(r.cpuPct?.p50)} / ${cpu(r.cpuPct?.max)} | ${f1(r.rssMiB?.p50)} | ${f1(r.pssMiB?.p50)} | ${f1(r.anonMiB?.p50)} | ${r.pktsInPerS ? f1(r.pktsInPerS.mean) : '—'} | ${r.windowS} s | ${r.error ?? ''} |`;
      })
      .join('\n') +
    '\n'
  );
}

async function main(): Promise<void> {
  const o = new Command()
    .option('--n <list>', 'legion sizes', '10,50')
    .option('--window <s>', 'measuring window per row, seconds', '20')
    .option('--only <impls>', 'legiond, uwsgi or both', 'legiond,uwsgi')
    .option('--out <name>', 'results under bench/results/NAME.{md,json}', 'side-by-side')
    .parse()
    .opts();
  installCleanup();
  const impls = String(o.only).split(',');
  if (impls.includes('uwsgi') && uwsgiVersion() === null)
    throw new Error('uwsgi is not installed (Debian: apt-get install uwsgi-core)');
  const ns = String(o.n).split(',').map(Number);
  const work = new WorkDir();
  const rows: CostRow[] = [];
  const started = new Date().toISOString();
  try {
    for (const c of sideBySideConfigs(ns, Number(o.window), impls)) {
      process.stderr.write(`${c.id} ...\n`);
      rows.push(await runCost(c, work, (l) => process.stderr.write(`${l}\n`)));
    }
  } finally {
    work.remove();
  }
  const md =
    `# legiond and uWSGI side by side\n\nRun ${started}, Node ${process.version}, ${uwsgiVersion() ?? 'no uWSGI'}.\n` +
    'CPU is utime + stime over the window; RSS counts the shared node binary whole in every process, ' +
    "PSS divides it among the processes sharing it; anon is the process's own memory.\n\n" +
    sideBySideTable(rows);
  process.stdout.write(md);
  const base = new URL(`./results/${o.out}`, import.meta.url).pathname;
  writeFileSync(`${base}.md`, md);
  writeFileSync(`${base}.json`, `${JSON.stringify({ started, rows }, null, 2)}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
