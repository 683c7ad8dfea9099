/** Human-readable output: one line per trace record, a run summary, and distributions over seeds. */
import { formatDuration, formatTime } from './duration.js';
import type { NodeLabel, RunReport } from './run.js';
import type { TraceRecord } from './trace.js';

export type Verbosity = 'normal' | 'verbose';

/** uuid → `n3` / `n3.2` */
export function labeller(incarnations: NodeLabel[]): (uuid: string | null) => string {
  const byUuid = new Map(incarnations.map((i) => [i.uuid, i.label]));
  return (uuid) => (uuid === null ? '-' : (byUuid.get(uuid) ?? uuid.slice(0, 8)));
}

/** One timeline line, or null when the record is below the verbosity. Columns: time, node, what, lord, epoch. */
export function formatRecord(
  r: TraceRecord,
  label: (uuid: string | null) => string,
  v: Verbosity,
): string | null {
  const row = (node: string, what: string, lord = '', epoch = '') =>
    `${formatTime(r.t)}  ${node.padEnd(8)} ${what.padEnd(30)} ${lord.padEnd(8)} ${epoch}`.trimEnd();
  switch (r.kind) {
    case 'start':
      return row(label(r.uuid), `start valor=${r.valor}`, '', r.epoch > 0n ? `epoch ${r.epoch}` : '');
    case 'status':
      return row(label(r.uuid), `${r.status} (${r.why})`);
    case 'event': {
      const quiet = r.event === 'node-joined' || r.event === 'node-left';
      if (quiet && v !== 'verbose') return null;
      const extra = r.member !== null ? ` ${label(r.member)}` : '';
      const why = r.reason !== null ? ` (${r.reason})` : '';
      return row(label(r.uuid), `${r.event}${extra}${why}`, `lord=${label(r.lord)}`, `epoch ${r.epoch}`);
    }
    case 'claim':
      return row(
        label(r.uuid),
        r.lord ? 'claims lordship' : 'drops lordship',
        '',
        r.lord ? `epoch ${r.epoch}` : '',
      );
    case 'view':
      return v === 'verbose' ? row(label(r.uuid), 'sees lord', `lord=${label(r.lord)}`) : null;
    case 'proc': {
      const hook = r.work.startsWith('hook-');
      const what = hook ? `hook ${r.work.slice(5)}` : r.work;
      const failed = r.op === 'exit' && r.how !== 'exit 0' && hook;
      if (v !== 'verbose' && hook && !failed) return null;
      const text =
        r.op === 'start'
          ? `${what} ${r.pid} starts`
          : `${what} ${r.pid} ${failed ? 'FAILED' : 'ends'} (${r.how}, ${formatDuration(r.ranMs)})`;
      return row(label(r.uuid), text, '', `epoch ${r.epoch}`);
    }
    case 'fault':
      return row('*', `FAULT ${r.text}`);
    case 'note':
      return row('*', `note: ${r.text}`);
  }
}

function ms(v: number | null): string {
  return v === null ? 'never' : formatDuration(Math.round(v * 1000) / 1000);
}

export function formatReport(r: RunReport): string {
  const m = r.metrics;
  const lines: string[] = [];
  const kv = (k: string, v: string) => lines.push(`  ${k.padEnd(18)} ${v}`);
  lines.push(
    `scenario ${r.scenario}  seed ${r.seed}  ${r.nodes} nodes  quorum ${r.quorum}  ${formatDuration(r.durationMs)} virtual${r.protocol === 'uwsgi' ? '  protocol uwsgi' : r.secure ? '  secure' : ''}${r.heartbeats === 'folded' ? '  heartbeats folded' : ''}`,
  );
  kv('trace', `${r.traceHash} (${r.records} records)`);
  kv('first lord', ms(m.firstLordMs));
  kv('lord events', String(m.lordEvents));
  for (const f of m.failovers) {
    const death = f.afterDeathMs !== null ? `, ${ms(f.afterDeathMs)} after the death announce` : '';
    kv(`${f.kind} failover`, `${f.node} at ${ms(f.atMs)} -> next lord after ${ms(f.latencyMs)}${death}`);
  }
  const ep = (name: string, e: RunReport['metrics']['overlap']) => {
    kv(name, `${e.count} episodes, total ${ms(e.totalMs)}, longest ${ms(e.longestMs)}`);
    for (const x of e.episodes.slice(0, 5))
      lines.push(`${' '.repeat(21)}${ms(x.startMs)}..${ms(x.endMs)} ${x.nodes.join(',')}`);
  };
  ep('overlap', m.overlap);
  ep('lordless', m.lordless);
  const w = r.work;
  if (w.started.daemon + w.started.cron + w.started.lord > 0) {
    kv(
      'lord-only work',
      `${w.started.daemon} daemon starts, ${w.started.cron} cron runs, ${w.started.lord} lord hook spans`,
    );
    ep('work overlap', w.overlap);
  }
  kv(
    'steady state',
    `${m.steady.lordChanges} lord changes in ${ms(m.steady.steadyMs)} (${m.steady.perHour.toFixed(1)}/h)`,
  );
  const c = r.stats.counters;
  const drops = Object.entries(c)
    .filter(([k]) => k.startsWith('drop:') || k.startsWith('encode-error:'))
    .map(([k, v]) => `${k.replace(/^drop:/, '')} ${v}`)
    .join(', ');
  kv(
    'packets',
    `sent ${c.sent ?? 0}, delivered ${r.stats.deliveries}, accepted ${c.accepted ?? 0}${drops ? `, dropped: ${drops}` : ''}${c.folded ? `, heartbeats folded ${c.folded}` : ''}`,
  );
  kv('core logs', `warn ${c['log:warn'] ?? 0}, error ${c['log:error'] ?? 0}`);
  kv('events', `${r.stats.events} processed, ${c.steps ?? 0} core steps`);
  if (r.violationCount === 0) kv('violations', 'none');
  else {
    kv('violations', String(r.violationCount));
    for (const v of r.violations.slice(0, 20))
      lines.push(`    ${ms(v.atMs)} ${v.kind} ${v.node ?? ''}: ${v.text}`);
  }
  if (r.noteCount > 0) {
    const why =
      r.protocol === 'uwsgi'
        ? 'uWSGI epochs are counted per node'
        : r.quorum * 2 > r.nodes
          ? 'findings nothing could fence; each says why'
          : 'expected without a majority quorum';
    kv('notes', `${r.noteCount} (${why})`);
    for (const v of r.notes.slice(0, 5)) lines.push(`    ${ms(v.atMs)} ${v.kind} ${v.node ?? ''}: ${v.text}`);
  }
  return lines.join('\n');
}

export interface Distribution {
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

export function distribution(values: number[]): Distribution | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  const at = (q: number) => v[Math.min(v.length - 1, Math.floor(q * (v.length - 1) + 0.5))]!;
  return {
    n: v.length,
    min: v[0]!,
    p50: at(0.5),
    p95: at(0.95),
    max: v[v.length - 1]!,
    mean: v.reduce((a, b) => a + b, 0) / v.length,
  };
}

export interface SeedsSummary {
  scenario: string;
  seeds: number;
  firstLordMs: Distribution | null;
  crashFailoverMs: Distribution | null;
  shutdownFailoverMs: Distribution | null;
  noFailover: number;
  overlapMs: Distribution | null;
  overlapEpisodes: Distribution | null;
  lordlessMs: Distribution | null;
  lordChangesPerHour: Distribution | null;
  violations: number;
  seedsWithViolations: number[];
}

export function summarizeSeeds(reports: RunReport[]): SeedsSummary {
  const fo = reports.flatMap((r) => r.metrics.failovers);
  const lat = (k: 'crash' | 'shutdown') =>
    distribution(fo.filter((f) => f.kind === k && f.latencyMs !== null).map((f) => f.latencyMs!));
  return {
    scenario: reports[0]?.scenario ?? '',
    seeds: reports.length,
    firstLordMs: distribution(
      reports.flatMap((r) => (r.metrics.firstLordMs === null ? [] : [r.metrics.firstLordMs])),
    ),
    crashFailoverMs: lat('crash'),
    shutdownFailoverMs: lat('shutdown'),
    noFailover: fo.filter((f) => f.latencyMs === null).length,
    overlapMs: distribution(reports.map((r) => r.metrics.overlap.totalMs)),
    overlapEpisodes: distribution(reports.map((r) => r.metrics.overlap.count)),
    lordlessMs: distribution(reports.map((r) => r.metrics.lordless.totalMs)),
    lordChangesPerHour: distribution(reports.map((r) => r.metrics.steady.perHour)),
    violations: reports.reduce((a, r) => a + r.violationCount, 0),
    seedsWithViolations: reports.filter((r) => r.violationCount > 0).map((r) => r.seed),
  };
}

export function formatSeeds(s: SeedsSummary): string {
  const lines = [
    `scenario ${s.scenario} over ${s.seeds} seeds`,
    `  ${'metric'.padEnd(24)} ${'min'.padStart(9)} ${'p50'.padStart(9)} ${'p95'.padStart(9)} ${'max'.padStart(9)}  n`,
  ];
  const row = (name: string, d: Distribution | null, unit: 'ms' | '') => {
    if (!d) return lines.push(`  ${name.padEnd(24)} ${'-'.padStart(9)}`);
    const f = (x: number) => (unit === 'ms' ? formatDuration(Math.round(x)) : x.toFixed(1)).padStart(9);
    return lines.push(`  ${name.padEnd(24)} ${f(d.min)} ${f(d.p50)} ${f(d.p95)} ${f(d.max)}  ${d.n}`);
  };
  row('first lord', s.firstLordMs, 'ms');
  row('crash failover', s.crashFailoverMs, 'ms');
  row('shutdown failover', s.shutdownFailoverMs, 'ms');
  row('overlap total', s.overlapMs, 'ms');
  row('overlap episodes', s.overlapEpisodes, '');
  row('lordless total', s.lordlessMs, 'ms');
  row('lord changes/h (steady)', s.lordChangesPerHour, '');
  if (s.noFailover > 0) lines.push(`  failovers that never happened: ${s.noFailover}`);
  lines.push(
    `  violations: ${s.violations}${s.seedsWithViolations.length ? ` (seeds ${s.seedsWithViolations.join(', ')})` : ''}`,
  );
  return lines.join('\n');
}
