/** Renders bench/results/latest.md from the results. */

import type { CostRow } from './cost.js';
import { bytesRate, dur, durTriple, num, pct, table } from './lib/format.js';
import type { BenchResults, TargetCheck } from './results.js';

function mark(met: boolean | null): string {
  return met === null ? 'not measured' : met ? 'met' : 'MISSED';
}

function targetsSection(ts: TargetCheck[]): string {
  const rows = ts.map((t) => [
    t.target,
    t.subject,
    t.figure,
    mark(t.met),
    t.met === false ? `${t.miss ?? ''}${t.why ? `: ${t.why}` : ''}` : '',
  ]);
  return table(['target', 'subject', 'figure', 'result', 'missed by, and why'], rows);
}

/** What the run's own logs showed about lord hooks nobody asked for. */
function restartClaimsNote(r: BenchResults): string {
  const rows = r.failover.filter((f) => f.kind === 'crash' && f.restartClaims > 0);
  if (rows.length === 0) return '';
  return (
    `Lord hooks by the node just restarted (${rows.map((f) => `${f.label}: ${f.restartClaims}`).join('; ')}) ` +
    'happened between trials, while nothing was being killed: the returning node ran its lord hook although ' +
    'a better lord was alive, so for a moment the legion had two lords. They are not counted as failovers.'
  );
}

function failoverSection(r: BenchResults): string {
  const sim = new Map(r.simFailover.map((s) => [s.profile, s]));
  const rows = r.failover.map((f) => {
    const [p50, p95, max] = durTriple(f.summary);
    const s = sim.get(f.profile);
    const simS = s ? (f.kind === 'crash' ? s.crash : s.shutdown) : null;
    const decided = f.decided ? `${dur(f.decided.p50)} / ${dur(f.decided.p95)}` : '—';
    const simCell = simS ? `${dur(simS.p50)} / ${dur(simS.p95)} / ${dur(simS.max)}` : '—';
    let target = '';
    if (f.impl === 'legiond' && f.summary) {
      target =
        f.kind === 'term'
          ? `p95 < 100 ms: ${f.summary.p95 < 100 ? 'met' : 'MISSED'}`
          : `≤ ${dur(f.toleranceMs + f.intervalMs)}: ${f.summary.max <= f.toleranceMs + f.intervalMs ? 'met' : 'MISSED'}`;
    } else if (f.impl === 'uwsgi') target = 'reference';
    const notes = [
      f.timeouts ? `${f.timeouts} without successor` : '',
      f.wrongSuccessor ? `${f.wrongSuccessor} wrong successor` : '',
      // counted per legion, over both kinds of trial: shown once
      f.kind === 'crash' && f.spuriousLordHooks
        ? `${f.spuriousLordHooks} false lord hooks between trials`
        : '',
      f.kind === 'crash' && f.restartClaims ? `${f.restartClaims} lord hooks by the node just restarted` : '',
      f.error ? `error: ${f.error}` : '',
    ].filter(Boolean);
    return [
      f.label,
      f.settings,
      f.kind === 'crash' ? 'SIGKILL' : 'SIGTERM',
      String(f.summary?.n ?? 0),
      p50,
      p95,
      max,
      decided,
      simCell,
      target,
      notes.join('; '),
    ];
  });
  return table(
    [
      'daemon, timing',
      'settings',
      'kill',
      'trials',
      'p50',
      'p95',
      'max',
      'decided p50 / p95',
      'simulator p50 / p95 / max',
      'target',
      'notes',
    ],
    rows,
  );
}

/** Below one clock tick over the window the figure is only a bound. */
function cpu(v: number, resolution: number): string {
  return v < resolution ? `< ${pct(resolution)}` : pct(v);
}

/** Share of the datagrams sent that the receivers counted (older result files lack the field). */
function deliveredRatio(c: CostRow): number | null {
  if (c.deliveredRatio !== undefined && c.deliveredRatio !== null) return c.deliveredRatio;
  if (!c.pktsOutPerS || !c.pktsInPerS) return null;
  const sent = c.pktsOutPerS.mean * (c.transport === 'multicast' ? c.n : 1);
  return sent > 0 ? c.pktsInPerS.mean / sent : null;
}

function delivered(c: CostRow): string {
  const d = deliveredRatio(c);
  return d === null ? '—' : `${num(Math.min(d, 1) * 100, 1)} %`;
}

function costNotes(c: CostRow): string {
  if (c.error) return `error: ${c.error}`;
  const notes: string[] = [];
  if (c.convergeS !== null) notes.push(`all saw all ${num(c.convergeS, 1)} s after spawn`);
  if (c.rcvbufErrorsPerS !== undefined && c.rcvbufErrorsPerS !== null && c.rcvbufErrorsPerS > 0) {
    notes.push(`host UDP receive-buffer overflows ${num(c.rcvbufErrorsPerS, 1)}/s`);
  }
  return notes.join('; ');
}

function costSection(r: BenchResults): string {
  const rows = r.cost.map((c) => {
    let target = '';
    if (c.impl === 'legiond' && c.n === 50 && c.cpuPct && c.rssMiB) {
      target = `CPU < 1 %: ${c.cpuPct.max < 1 ? 'met' : 'MISSED'}; RSS < 80 MB: ${c.rssMiB.max < 80e6 / 2 ** 20 ? 'met' : 'MISSED'}`;
    } else if (c.impl === 'uwsgi') target = 'reference';
    return [
      c.impl,
      String(c.n),
      c.transport,
      c.settings,
      c.cpuPct ? `${cpu(c.cpuPct.p50, c.cpuResolutionPct)} / ${cpu(c.cpuPct.max, c.cpuResolutionPct)}` : '—',
      c.rssMiB ? `${num(c.rssMiB.p50, 1)} / ${num(c.rssMiB.max, 1)}` : '—',
      c.pktsOutPerS ? num(c.pktsOutPerS.p50, 1) : c.impl === 'uwsgi' ? `(${num((c.n - 1) / 3, 1)})` : '—',
      c.pktsInPerS ? num(c.pktsInPerS.p50, 1) : c.impl === 'uwsgi' ? `(${num((c.n - 1) / 3, 1)})` : '—',
      c.bytesOutPerS ? bytesRate(c.bytesOutPerS.p50) : '—',
      c.bytesInPerS ? bytesRate(c.bytesInPerS.p50) : '—',
      `${c.windowS} s`,
      target,
      delivered(c),
      costNotes(c),
    ];
  });
  return table(
    [
      'daemon',
      'N',
      'transport',
      'settings',
      'CPU % of a core p50 / worst',
      'RSS MiB p50 / worst',
      'pkts out/s',
      'pkts in/s',
      'bytes out/s',
      'bytes in/s',
      'window',
      'target',
      'delivered',
      'notes',
    ],
    rows,
  );
}

function throughputSection(r: BenchResults): string {
  const t = r.throughput;
  if (!t) return '_not run_';
  const rows = t.rows.map((x) => [x.stage, num(x.perSecond), num(x.usPerAnnounce, 1)]);
  const full = t.rows[0]!;
  const perNode50 = 49 * 4;
  return [
    `${t.senders} senders, ${num(t.packets)} pre-encoded announces of ${t.packetBytes} bytes (${t.attestations ?? 32} attestations each), ` +
      'one receiving node, running the built daemon code (dist/); median of the passes, per CPU-second of the bench process.',
    '',
    table(['stage', 'announces per CPU-second', 'µs per announce'], rows),
    '',
    `At N = 50 and the default interval a node takes in about ${perNode50} announces/s: ` +
      `${pct((perNode50 * full.usPerAnnounce) / 1e4)} of a core at this rate.`,
  ].join('\n');
}

function simLossSection(r: BenchResults): string {
  const rows = r.simLoss.map((s) => [
    `${Math.round(s.loss * 100)} %`,
    String(s.nodes),
    String(s.seeds),
    num(s.simulatedHours, 2),
    String(s.lordChanges),
    num(s.perHour, 1),
    dur(s.overlapMs),
    dur(s.lordlessMs),
    String(s.violations),
    Math.abs(s.loss - 0.2) < 1e-9 ? `0 per hour: ${s.lordChanges === 0 ? 'met' : 'MISSED'}` : '',
  ]);
  return table(
    [
      'loss',
      'N',
      'seeds',
      'simulated hours (steady)',
      'false lord changes',
      'per hour',
      'two lords (total)',
      'lordless (total, first election included)',
      'invariant violations',
      'target',
    ],
    rows,
  );
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.meta;
  const out = [
    `# legiond benchmarks (${m.set} set)`,
    '',
    `Run ${m.startedAt} – ${m.finishedAt} (${num(m.wallS / 60, 1)} min), commit ${m.commit ?? '?'}${m.dirtyTree ? ' with uncommitted changes' : ''}.`,
    `Host: ${m.cpus} × ${m.cpuModel}, ${num(m.memGiB, 1)} GiB; Node ${m.node}; ${m.uwsgi ? `uWSGI ${m.uwsgi}` : 'uWSGI not installed'}.`,
    `Load average at start ${m.loadAvgStart.map((x) => x.toFixed(1)).join(' ')}, at end ${m.loadAvgEnd.map((x) => x.toFixed(1)).join(' ')}: ` +
      'the machine is shared, so latencies carry scheduling noise and CPU figures contention.',
    m.distOlderThanSrcS !== null && m.distOlderThanSrcS > 0
      ? `Warning: dist/ (run by the real-process benches) is ${num(m.distOlderThanSrcS)} s older than the newest file in src/.`
      : '',
    m.only ? `Partial run: ${m.only.join(', ')}.` : '',
    `Wall time per section: ${Object.entries(m.sectionsS)
      .map(([k, v]) => `${k} ${num(v, 0)} s`)
      .join(', ')} (the two slow failover profiles run side by side).`,
    '',
    '## Targets',
    '',
    targetsSection(r.targets),
    '',
    '## Failover latency (loopback, three nodes)',
    '',
    'From the signal to the lord (SIGKILL of its process group: a crash; SIGTERM: a clean shutdown) to the moment ' +
      "the best survivor's lord hook starts (`date +%s%N` run by the hook, same wall clock as the bench). " +
      '"decided" is when the legiond successor logged `became lord` (ms resolution), before the hook process ' +
      'is spawned. The simulator column runs the same core and timing on a simulated 1 ms ± 1 ms network; its ' +
      'hooks start instantly, so it compares with "decided".',
    '',
    'uWSGI is run with `--die-on-term` (without it SIGTERM reloads uWSGI 2.0). legiond requires tolerance > ' +
      "interval, so uWSGI's fastest setting (freq 1 s, tolerance 1 s) maps to `--interval 1s --tolerance 1001ms`. " +
      'After each trial the killed node comes back with the lowest valor, so nothing preempts and the next trial ' +
      'starts from a settled legion; each trial kills at a random phase of the announce cycle.',
    '',
    failoverSection(r),
    '',
    restartClaimsNote(r),
    '',
    '## Cost per node (steady state, default settings)',
    '',
    'CPU is utime + stime from /proc/PID/stat over the window (10 ms ticks), RSS is VmRSS at the end ' +
      "(uWSGI: master + worker). Packet and byte rates come from legiond's counters (`legionctl status`); " +
      'uWSGI has none, so its column shows in parentheses what it sends by design (N − 1 peers every 3 s). ' +
      'Multicast nodes also receive their own announces. "delivered" is datagrams counted by receivers over ' +
      'datagrams sent to them (all nodes, same window): below 100 % the kernel dropped some, as it does when a ' +
      "socket's receive buffer fills because its process is not scheduled in time.",
    '',
    costSection(r),
    '',
    r.rssBaseline
      ? `Memory baseline: an idle Node process ${num(r.rssBaseline.bareNodeMiB, 1)} MiB; one that has loaded the daemon's modules ${num(r.rssBaseline.daemonModulesMiB, 1)} MiB.`
      : '',
    '',
    '## Core throughput (one core, in process)',
    '',
    throughputSection(r),
    '',
    '## Simulation: false lord changes (N = 20, default timing and quorum, no faults)',
    '',
    'Every lord change after the first election is false, since nothing fails. Loss applies to every packet on ' +
      'every link; the simulator drops the start-up window from the steady time.',
    '',
    simLossSection(r),
    '',
    r.errors.length ? `## Errors\n\n${r.errors.map((e) => `- ${e}`).join('\n')}\n` : '',
  ];
  return `${out
    .filter((l, i, a) => !(l === '' && a[i - 1] === ''))
    .join('\n')
    .trim()}\n`;
}
