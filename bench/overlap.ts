/**
 * `npx tsx bench/overlap.ts [K] [--only kill9,stepdown,...]` (build first: it runs dist/): each fault
 * of the "exactly one runner" tests, K times (default 5), on a fresh three-node legion of real
 * legiond processes whose lord-only work is test/helpers/workload.ts. Prints per fault: runs,
 * the most workloads seen at once, overlap (ms during which two ran; per-run max and the total
 * over all runs, target 0), failover time (the fault to the first write of the next lordship's
 * workload) p50/p95, epoch issues and processes left running. Prints figures, never asserts.
 * Not part of `npm run bench`. Progress goes to stderr; BENCH_VERBOSE=1 adds each run's problems.
 */
import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { LEGIOND } from '../test/helpers/procs.js';
import { dur, table } from './lib/format.js';
import { type FaultRun, killAllLabs, overlapFaults } from './lib/overlap-faults.js';
import { summarize } from './lib/stats.js';

const log = (line: string) => process.stderr.write(`${line}\n`);

interface Row {
  id: string;
  label: string;
  runs: FaultRun[];
  errors: string[];
}

function installCleanup(): void {
  process.on('exit', killAllLabs);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAllLabs();
      process.stderr.write(`bench: ${sig}, children killed\n`);
      process.exit(130);
    });
  }
}

function render(rows: Row[]): string {
  const head = [
    'fault',
    'runs',
    'errors',
    'max at once',
    'overlap max',
    'overlap total',
    'failover p50',
    'failover p95',
    'epoch issues',
    'left running',
    'notes',
  ];
  const body = rows.map((r) => {
    const ok = r.runs;
    const fo = summarize(ok.map((x) => x.failoverMs).filter((x): x is number => x !== null));
    const notes = [...new Set(ok.map((x) => x.note).filter((x): x is string => x !== undefined))];
    return [
      r.id,
      String(ok.length),
      String(r.errors.length),
      ok.length ? String(Math.max(...ok.map((x) => x.maxConcurrency))) : '—',
      ok.length ? dur(Math.max(...ok.map((x) => x.overlapMs))) : '—',
      ok.length ? dur(ok.reduce((s, x) => s + x.overlapMs, 0)) : '—',
      dur(fo?.p50),
      dur(fo?.p95),
      String(ok.reduce((s, x) => s + x.epochIssues, 0)),
      String(ok.reduce((s, x) => s + x.leftovers, 0)),
      notes.slice(0, 3).join('; '),
    ];
  });
  const legend = rows.map((r) => `- ${r.id}: ${r.label}`).join('\n');
  const errors = rows.flatMap((r) => r.errors.map((e) => `- ${r.id}: ${e.split('\n')[0]}`));
  return [
    table(head, body),
    '',
    legend,
    ...(errors.length ? ['', 'errors (a run that could not complete; not counted above):', ...errors] : []),
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const opts = new Command('overlap')
    .argument('[runs]', 'runs per fault', '5')
    .option('--only <ids>', 'comma-separated fault ids')
    .parse(process.argv);
  const k = Number(opts.args[0] ?? '5');
  if (!Number.isInteger(k) || k < 1)
    throw new Error(`runs must be a positive integer, not "${opts.args[0]}"`);
  const only = (opts.opts<{ only?: string }>().only ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!existsSync(LEGIOND)) throw new Error(`${LEGIOND} is missing: run "npm run build" first`);
  const faults = overlapFaults().filter((f) => only.length === 0 || only.includes(f.id));
  if (only.length > 0 && faults.length !== only.length)
    throw new Error(
      `unknown fault in --only (${overlapFaults()
        .map((f) => f.id)
        .join(', ')})`,
    );
  installCleanup();
  const rows: Row[] = [];
  const t0 = performance.now();
  for (const f of faults) {
    const row: Row = { id: f.id, label: f.label, runs: [], errors: [] };
    rows.push(row);
    for (let i = 1; i <= k; i++) {
      try {
        const r = await f.run();
        row.runs.push(r);
        log(
          `  ${f.id} #${i}: at once ${r.maxConcurrency}, overlap ${dur(r.overlapMs)}, failover ${dur(r.failoverMs)}` +
            `${r.epochIssues ? `, ${r.epochIssues} epoch issues` : ''}${r.leftovers ? `, ${r.leftovers} left running` : ''}` +
            `${r.note ? ` (${r.note})` : ''}`,
        );
      } catch (e) {
        const msg = e instanceof Error ? e.message : String(e);
        row.errors.push(msg);
        log(`  ${f.id} #${i}: ${msg.split('\n')[0]}`);
      }
    }
  }
  process.stdout.write(
    `# Exactly one runner: ${k} runs per fault (${((performance.now() - t0) / 1000).toFixed(0)} s)\n\n`,
  );
  process.stdout.write(render(rows));
}

main().catch((e) => {
  killAllLabs();
  process.stderr.write(`overlap: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
  process.exit(1);
});
