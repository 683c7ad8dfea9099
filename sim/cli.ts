/**
 * `npm run sim -- sim/scenarios/FILE.yaml [--seed N | --seeds N] [--json] [--svg FILE]
 * [--check-determinism] [--secure] [--heartbeats full|folded] [--windowed] [--verbose] [--quiet]`
 * Exit status: 0 clean, 1 invariant violations (or a determinism mismatch), 2 bad usage or scenario.
 */
import { writeFileSync } from 'node:fs';
import { Command, InvalidArgumentError, Option } from 'commander';
import { isLegiondError } from '../src/errors.js';
import {
  formatRecord,
  formatReport,
  formatSeeds,
  labeller,
  summarizeSeeds,
  type Verbosity,
} from './report.js';
import { runScenarioAsync } from './run.js';
import { loadScenario } from './scenario.js';
import { HEARTBEAT_MODES, type HeartbeatMode, type Scenario } from './scenario-types.js';
import { renderSvg } from './svg.js';
import type { TraceRecord } from './trace.js';

interface Opts {
  seed: number;
  seeds?: number;
  json?: boolean;
  svg?: string;
  checkDeterminism?: boolean;
  secure?: boolean;
  verbose?: boolean;
  quiet?: boolean;
  logs?: boolean;
  heartbeats?: HeartbeatMode;
  windowed?: boolean;
}

function positiveInt(v: string): number {
  const n = Number(v);
  if (!Number.isSafeInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

async function main(argv: string[]): Promise<number> {
  const program = new Command()
    .name('sim')
    .description('Run a legiond simulation scenario against the real election core and codec')
    .argument('<scenario>', 'scenario YAML file (see sim/scenarios)')
    .option('--seed <n>', 'PRNG seed', positiveInt, 1)
    .option('--seeds <n>', 'run seeds 1..N and print distributions', positiveInt)
    .option('--json', 'print only the report JSON on stdout (timeline to stderr)')
    .option('--svg <file>', 'write a timeline picture')
    .option('--check-determinism', 'run the seed twice and compare trace hashes')
    .option('--secure', 'authenticate packets (AES-256-GCM) whatever the scenario says')
    .addOption(
      new Option(
        '--heartbeats <mode>',
        'full: every announce is a packet; folded: repeats are taken in bulk',
      ).choices(HEARTBEAT_MODES),
    )
    .option('--windowed', 'run nodes one after another within windows shorter than the fastest link')
    .option('--verbose', 'timeline includes node-joined/left, hooks and views')
    .option('--quiet', 'no timeline, only the report')
    .option('--logs', 'print the core log effects (warn and error) in the timeline')
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s) });
  try {
    program.parse(argv);
  } catch (e) {
    const code = (e as { exitCode?: number }).exitCode;
    return code === 0 ? 0 : 2;
  }
  const o = program.opts<Opts>();
  const file = program.args[0]!;
  let scenario: Scenario;
  try {
    scenario = loadScenario(file);
  } catch (e) {
    process.stderr.write(`${isLegiondError(e) ? e.message : String(e)}\n`);
    return 2;
  }
  // what every run of this invocation shares
  const common = {
    ...(o.secure ? { secure: true } : {}),
    ...(o.heartbeats ? { heartbeats: o.heartbeats } : {}),
    ...(o.windowed ? { windowed: true } : {}),
  };
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const info = o.json ? (s: string) => process.stderr.write(`${s}\n`) : out;

  if (o.seeds !== undefined) {
    const reports = [];
    for (let seed = 1; seed <= o.seeds; seed++) {
      reports.push((await runScenarioAsync(scenario, { seed, ...common })).report);
    }
    const summary = summarizeSeeds(reports);
    if (o.json) out(JSON.stringify({ summary, runs: reports.map(compact) }, null, 2));
    else out(formatSeeds(summary));
    return summary.violations > 0 ? 1 : 0;
  }

  if (o.checkDeterminism) {
    const a = (await runScenarioAsync(scenario, { seed: o.seed, ...common })).report;
    const b = (await runScenarioAsync(scenario, { seed: o.seed, ...common })).report;
    const same = a.traceHash === b.traceHash && a.records === b.records;
    const result = {
      scenario: scenario.name,
      seed: o.seed,
      first: a.traceHash,
      second: b.traceHash,
      deterministic: same,
    };
    if (o.json) out(JSON.stringify(result, null, 2));
    else out(`${same ? 'deterministic' : 'NOT DETERMINISTIC'}: ${a.traceHash} / ${b.traceHash}`);
    return same ? 0 : 1;
  }

  const verbosity: Verbosity = o.verbose ? 'verbose' : 'normal';
  const buffered: TraceRecord[] = [];
  const res = await runScenarioAsync(scenario, {
    seed: o.seed,
    keepTrace: o.svg !== undefined,
    trackViews: o.svg !== undefined || o.verbose === true,
    ...common,
    ...(o.quiet ? {} : { onRecord: (r: TraceRecord) => buffered.push(r) }),
    ...(o.logs
      ? {
          onLog: (t, slot, e) => {
            if (e.level === 'warn' || e.level === 'error') {
              buffered.push({
                t,
                kind: 'note',
                slot,
                text: `[${scenario.nodes[slot]!.name} ${e.level}] ${e.msg} ${JSON.stringify(e.fields ?? {}, (_k, v) => (typeof v === 'bigint' ? String(v) : v))}`,
              });
            }
          },
        }
      : {}),
  });
  if (!o.quiet) {
    const label = labeller(res.incarnations);
    info(`${'time'.padStart(10)}  ${'node'.padEnd(8)} ${'what'.padEnd(30)} ${'lord'.padEnd(8)} epoch`);
    for (const r of buffered) {
      const line = formatRecord(r, label, verbosity);
      if (line !== null) info(line);
    }
    info('');
  }
  if (o.svg !== undefined) {
    writeFileSync(o.svg, renderSvg(res));
    info(`picture written to ${o.svg}`);
  }
  if (o.json) out(JSON.stringify(res.report, null, 2));
  else out(formatReport(res.report));
  return res.report.violationCount > 0 ? 1 : 0;
}

/** a run without its long lists, for --seeds --json */
function compact(r: Awaited<ReturnType<typeof runScenarioAsync>>['report']) {
  return {
    seed: r.seed,
    traceHash: r.traceHash,
    firstLordMs: r.metrics.firstLordMs,
    failovers: r.metrics.failovers,
    overlapMs: r.metrics.overlap.totalMs,
    overlapEpisodes: r.metrics.overlap.count,
    lordlessMs: r.metrics.lordless.totalMs,
    lordChangesPerHour: r.metrics.steady.perHour,
    violationCount: r.violationCount,
    violations: r.violations.slice(0, 5),
  };
}

main(process.argv).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`${isLegiondError(e) ? e.message : String((e as Error)?.stack ?? e)}\n`);
    process.exitCode = 2;
  },
);
