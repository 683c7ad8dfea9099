/**
 * Measuring "exactly one runner" from the workloads' own point of view.
 *
 * A bash workload script, started as an attached daemon, a cron run or a lord/unlord hook, appends
 * one line every ~20 ms to a shared log while it runs:
 *
 *   <ns> <pid> <kind> <epoch> <node> <uuid> <reason> <tag> <phase>
 *
 * `ns` is CLOCK_REALTIME in nanoseconds (bash's EPOCHREALTIME: the clock `date +%s%N` reads,
 * without a fork per line), `pid` the script's `$$`, `kind` one of daemon / cron / hook-lord /
 * hook-unlord / span-start / span-end, `epoch` $LEGION_EPOCH, `node` $LEGION_NODE_NAME, `uuid`
 * $LEGION_NODE_UUID (new at every legiond start, so a restarted node is a new holder), `reason`
 * $LEGION_REASON, `tag` a free label from the command line (to tell a reloaded command from the
 * old one), `phase` `run`, or `term` once SIGTERM arrived. Empty fields are written as `-`.
 *
 * A `lord` hook writes `span-start` first, an `unlord` hook writes `span-end` last: the span in
 * between is the lordship's hook span. The analyzer turns the log into intervals (per pid: first
 * write to last write; per node: span-start to span-end) and measures how many ran at once.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { LegionStatus, StatusResult } from '../../src/control/results.js';
import { Lab, LEGIONCTL, type Proc } from './procs.js';

export type WorkKind = 'daemon' | 'cron' | 'hook-lord' | 'hook-unlord';
export type LineKind = WorkKind | 'span-start' | 'span-end';

/** how a workload answers SIGTERM: `termMs` 0 exits at once, otherwise it ticks on that long */
export interface TermBehaviour {
  termMs?: number;
}

const SCRIPT = `#!/usr/bin/env bash
# workload.sh LOG KIND TERM_MS RUN_MS TAG  (see test/helpers/workload.ts)
log=$1; kind=$2; term_ms=\${3:-0}; run_ms=\${4:-0}; tag=\${5:--}
epoch=\${LEGION_EPOCH:--}; node=\${LEGION_NODE_NAME:--}; uuid=\${LEGION_NODE_UUID:--}
reason=\${LEGION_REASON:--}; phase=run
now_ns() { local t=\${EPOCHREALTIME//[!0-9]/}; REPLY=\${t}000; }
line() { now_ns; printf '%s %s %s %s %s %s %s %s %s\\n' "$REPLY" "$$" "$1" "$epoch" "$node" "$uuid" "$reason" "$tag" "$phase" >>"$log"; }
now_ms() { local t=\${EPOCHREALTIME//[!0-9]/}; REPLY=$(( t / 1000 )); }
# ticks (a line every ~20 ms) for $1 ms; at least one line
tick_for() { now_ms; local end=$(( REPLY + $1 )); while :; do line "$kind"; now_ms; (( REPLY >= end )) && break; sleep 0.02; done; }
on_term() { phase=term; trap '' TERM; if (( term_ms > 0 )); then tick_for "$term_ms"; else line "$kind"; fi; [[ $kind == hook-unlord ]] && line span-end; exit 0; }
trap on_term TERM
case $kind in
  daemon) while :; do line daemon; sleep 0.02; done ;;
  cron) tick_for "$run_ms" ;;
  hook-lord) line span-start; tick_for "$run_ms" ;;
  hook-unlord) tick_for "$run_ms"; line span-end ;;
  *) echo "workload.sh: unknown kind $kind" >&2; exit 2 ;;
esac
exit 0
`;

/** One workload log and the script that writes it, in a scratch directory. */
export class WorkloadLog {
  readonly script: string;
  /** unique per instance: also the marker noLeftovers() looks for in command lines */
  readonly log: string;

  constructor(dir: string) {
    const id = randomBytes(4).toString('hex');
    this.script = join(dir, `workload-${id}.sh`);
    this.log = join(dir, `workload-${id}.log`);
    writeFileSync(this.script, SCRIPT, { mode: 0o755 });
    writeFileSync(this.log, '');
  }

  private argv(kind: WorkKind, termMs: number, runMs: number, tag: string): string[] {
    return ['bash', this.script, this.log, kind, String(termMs), String(runMs), tag];
  }

  /** an attached daemon (argv form, so the script's pid is the daemon's pid) */
  daemon(o: TermBehaviour & { tag?: string } = {}): string[] {
    return this.argv('daemon', o.termMs ?? 0, 0, o.tag ?? '-');
  }

  /** a cron run that ticks for `runMs` (default 200) */
  cron(o: TermBehaviour & { runMs?: number; tag?: string } = {}): string[] {
    return this.argv('cron', o.termMs ?? 0, o.runMs ?? 200, o.tag ?? '-');
  }

  /** a lord hook (span-start, then ticks for runMs) or unlord hook (ticks, then span-end) */
  hook(event: 'lord' | 'unlord', o: { runMs?: number; tag?: string } = {}): string[] {
    return this.argv(event === 'lord' ? 'hook-lord' : 'hook-unlord', 0, o.runMs ?? 0, o.tag ?? '-');
  }

  lines(): WorkLine[] {
    return existsSync(this.log) ? parseWorkLog(readFileSync(this.log, 'utf8')) : [];
  }

  analyze(o: AnalyzeOptions = {}): Analysis {
    return analyzeWork(this.lines(), o);
  }
}

export interface WorkLine {
  ns: bigint;
  /** wall ms, fractional */
  ms: number;
  pid: number;
  kind: LineKind;
  epoch: bigint | null;
  node: string;
  uuid: string;
  reason: string;
  tag: string;
  phase: 'run' | 'term';
}

const KINDS = new Set<string>(['daemon', 'cron', 'hook-lord', 'hook-unlord', 'span-start', 'span-end']);

/** Complete, well-formed lines only: a torn last line or garbage is skipped. */
export function parseWorkLog(text: string): WorkLine[] {
  const out: WorkLine[] = [];
  for (const raw of text.split('\n')) {
    const f = raw.trim().split(' ');
    if (f.length !== 9 || !/^\d{10,}$/.test(f[0]!) || !/^\d+$/.test(f[1]!) || !KINDS.has(f[2]!)) continue;
    const ns = BigInt(f[0]!);
    out.push({
      ns,
      ms: Number(ns / 1000n) / 1000,
      pid: Number(f[1]),
      kind: f[2] as LineKind,
      epoch: /^\d+$/.test(f[3]!) ? BigInt(f[3]!) : null,
      node: f[4]!,
      uuid: f[5]!,
      reason: f[6]!,
      tag: f[7]!,
      phase: f[8] === 'term' ? 'term' : 'run',
    });
  }
  return out.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
}

/** One running thing: a process (daemon, cron run, hook process) or a node's hook span. */
export interface Interval {
  kind: WorkKind | 'span';
  /** the process, or for a span the pid of its lord hook */
  pid: number;
  node: string;
  /** the legiond incarnation that owns it (its node UUID); falls back to the node name */
  holder: string;
  epoch: bigint | null;
  startMs: number;
  endMs: number;
  /** a span whose unlord hook never ended (endMs is then AnalyzeOptions.openEndMs) */
  open: boolean;
  writes: number;
  tag: string;
  /** spans: the unlord hook's epoch and reason */
  endEpoch?: bigint | null;
  reason?: string;
  /** processes: the first write after SIGTERM arrived */
  termMs?: number;
}

export interface Overlap {
  fromMs: number;
  toMs: number;
  /** `node/kind/pid` of everything running then */
  running: string[];
}

export interface Analysis {
  lines: number;
  /** processes, by first write */
  procs: Interval[];
  /** hook spans, by start */
  spans: Interval[];
  /** the intervals the figures below were computed from (procs plus spans unless excluded) */
  counted: Interval[];
  /** spans left out of the count (AnalyzeOptions.spans / ignoreSpan) */
  ignoredSpans: Interval[];
  /**
   * most workloads at one instant: per holder 1 if anything of it runs, plus every extra copy of
   * the same kind (two daemon pids of one node count 2; a node's span and its daemon count 1)
   */
  maxConcurrency: number;
  /** ms during which the count above was at least 2 */
  overlapMs: number;
  overlaps: Overlap[];
  /** every epoch in the log, in order of first appearance */
  epochs: bigint[];
  /**
   * daemon and cron runs by first write: each epoch at least the one before, and greater when the
   * holder changes; `epochViolations` says where not
   */
  epochsIncrease: boolean;
  epochViolations: string[];
  /** daemon/cron runs whose epoch differs from that of their holder's span they started in */
  spanEpochMismatches: string[];
  /** spans whose unlord hook saw another epoch than the lord hook */
  unlordEpochMismatches: Interval[];
  /** a second span-start of a holder while its span was open; span-end with no open span */
  doubleStarts: string[];
  orphanEnds: string[];
  /** daemon/cron runs that started outside every span of their holder (when the holder has spans) */
  outsideSpan: string[];
}

export interface AnalyzeOptions {
  /** count hook spans and hook processes as workloads (default true) */
  spans?: boolean;
  /**
   * leave out of the count the spans this returns true for, with the hook processes their holder
   * ran within them: for a legiond SIGKILLed or paused during its span, whose unlord hook cannot
   * run (or runs only once it wakes), so the span stays open by construction
   */
  ignoreSpan?: (s: Interval) => boolean;
  /** where an open span ends (default: the last line of the log) */
  openEndMs?: number;
  /** only lines at or after this wall ms */
  sinceMs?: number;
}

const holderOf = (l: WorkLine) => (l.uuid !== '-' ? l.uuid : l.node);
const label = (i: Interval) => `${i.node}/${i.kind}/${i.pid}@${i.epoch ?? '-'}`;

export function analyzeWork(all: readonly WorkLine[], o: AnalyzeOptions = {}): Analysis {
  const lines = o.sinceMs === undefined ? all : all.filter((l) => l.ms >= o.sinceMs!);
  const lastMs = lines.length > 0 ? lines[lines.length - 1]!.ms : 0;
  const openEnd = o.openEndMs ?? lastMs;

  const byPid = new Map<string, Interval>();
  const spans: Interval[] = [];
  const openSpan = new Map<string, Interval>();
  const doubleStarts: string[] = [];
  const orphanEnds: string[] = [];
  const epochs: bigint[] = [];
  const seenEpochs = new Set<bigint>();

  for (const l of lines) {
    if (l.epoch !== null && !seenEpochs.has(l.epoch)) {
      seenEpochs.add(l.epoch);
      epochs.push(l.epoch);
    }
    const holder = holderOf(l);
    if (l.kind === 'span-start') {
      const prev = openSpan.get(holder);
      if (prev) doubleStarts.push(`${l.node}: span-start @${l.epoch} while the span @${prev.epoch} is open`);
      const s: Interval = {
        kind: 'span',
        pid: l.pid,
        node: l.node,
        holder,
        epoch: l.epoch,
        startMs: l.ms,
        endMs: openEnd,
        open: true,
        writes: 1,
        tag: l.tag,
      };
      spans.push(s);
      openSpan.set(holder, s);
      continue;
    }
    if (l.kind === 'span-end') {
      const s = openSpan.get(holder);
      if (!s) {
        orphanEnds.push(`${l.node}: span-end @${l.epoch} with no open span`);
        continue;
      }
      openSpan.delete(holder);
      s.endMs = l.ms;
      s.open = false;
      s.endEpoch = l.epoch;
      s.reason = l.reason;
      s.writes++;
      continue;
    }
    // pids are reused eventually: key by holder too
    const key = `${holder} ${l.pid} ${l.kind}`;
    const p = byPid.get(key);
    if (p) {
      p.endMs = l.ms;
      p.writes++;
      if (l.phase === 'term' && p.termMs === undefined) p.termMs = l.ms;
    } else {
      byPid.set(key, {
        kind: l.kind,
        pid: l.pid,
        node: l.node,
        holder,
        epoch: l.epoch,
        startMs: l.ms,
        endMs: l.ms,
        open: false,
        writes: 1,
        tag: l.tag,
        ...(l.phase === 'term' ? { termMs: l.ms } : {}),
      });
    }
  }
  const procs = [...byPid.values()].sort((a, b) => a.startMs - b.startMs);
  const isHook = (p: Interval) => p.kind === 'hook-lord' || p.kind === 'hook-unlord';
  const ignored = o.spans === false ? spans : spans.filter((x) => o.ignoreSpan?.(x) === true);
  const counted = [
    ...procs.filter(
      (p) =>
        !isHook(p) ||
        !ignored.some((x) => x.holder === p.holder && x.startMs <= p.startMs && p.startMs <= x.endMs),
    ),
    ...spans.filter((x) => !ignored.includes(x)),
  ];
  const { max, overlapMs, overlaps } = concurrency(counted);

  // epochs across successive daemon/cron runs
  const runs = procs.filter((p) => p.kind === 'daemon' || p.kind === 'cron');
  const epochViolations: string[] = [];
  for (let i = 1; i < runs.length; i++) {
    const a = runs[i - 1]!;
    const b = runs[i]!;
    if (a.epoch === null || b.epoch === null) {
      epochViolations.push(`${label(b)} after ${label(a)}: no epoch`);
      continue;
    }
    const ok = a.holder === b.holder ? b.epoch >= a.epoch : b.epoch > a.epoch;
    if (!ok) epochViolations.push(`${label(b)} started after ${label(a)}`);
  }
  const spanEpochMismatches: string[] = [];
  const outsideSpan: string[] = [];
  for (const r of runs) {
    const own = spans.filter((x) => x.holder === r.holder);
    if (own.length === 0) continue;
    const s = own.find((x) => x.startMs <= r.startMs && r.startMs <= x.endMs);
    if (!s) outsideSpan.push(label(r));
    else if (s.epoch !== r.epoch) spanEpochMismatches.push(`${label(r)} inside the span @${s.epoch}`);
  }
  return {
    lines: lines.length,
    procs,
    spans,
    counted,
    ignoredSpans: ignored,
    maxConcurrency: max,
    overlapMs,
    overlaps,
    epochs,
    epochsIncrease: epochViolations.length === 0,
    epochViolations,
    spanEpochMismatches,
    unlordEpochMismatches: spans.filter((s) => !s.open && s.endEpoch !== s.epoch),
    doubleStarts,
    orphanEnds,
    outsideSpan,
  };
}

/** the count of workloads over time (see Analysis.maxConcurrency) */
function concurrency(iv: readonly Interval[]): { max: number; overlapMs: number; overlaps: Overlap[] } {
  const count = (active: Interval[]) => {
    const perHolder = new Map<string, Map<string, number>>();
    for (const i of active) {
      const kinds = perHolder.get(i.holder) ?? new Map<string, number>();
      // a node's hook processes run inside its span and one at a time: never an extra copy
      const k = i.kind === 'hook-lord' || i.kind === 'hook-unlord' ? 'hook' : i.kind;
      kinds.set(k, (kinds.get(k) ?? 0) + 1);
      perHolder.set(i.holder, kinds);
    }
    let n = 0;
    for (const kinds of perHolder.values()) {
      n += 1;
      for (const [k, c] of kinds) if (k !== 'hook') n += Math.max(0, c - 1);
    }
    return n;
  };
  const points = [...new Set(iv.flatMap((i) => [i.startMs, i.endMs]))].sort((a, b) => a - b);
  let max = 0;
  for (const p of points) max = Math.max(max, count(iv.filter((i) => i.startMs <= p && p <= i.endMs)));
  let overlapMs = 0;
  const overlaps: Overlap[] = [];
  for (let k = 0; k + 1 < points.length; k++) {
    const [a, b] = [points[k]!, points[k + 1]!];
    const active = iv.filter((i) => i.startMs <= a && b <= i.endMs);
    if (count(active) < 2) continue;
    overlapMs += b - a;
    const running = active.map(label).sort();
    const last = overlaps[overlaps.length - 1];
    if (last && last.toMs === a && last.running.join() === running.join()) last.toMs = b;
    else overlaps.push({ fromMs: a, toMs: b, running });
  }
  return { max, overlapMs, overlaps };
}

/** A short human summary for failure messages and bench logs. */
export function describeAnalysis(a: Analysis): string {
  const fmt = (i: Interval) =>
    `  ${label(i)} ${i.tag !== '-' ? `[${i.tag}] ` : ''}${new Date(i.startMs).toISOString().slice(11)} .. ${
      i.open ? 'open' : new Date(i.endMs).toISOString().slice(11)
    } (${i.writes} writes${i.termMs !== undefined ? `, TERM seen +${Math.round(i.termMs - i.startMs)} ms` : ''}${
      i.kind === 'span' ? `, unlord @${i.endEpoch ?? '-'} ${i.reason ?? ''}` : ''
    })`;
  return [
    `max concurrency ${a.maxConcurrency}, overlap ${a.overlapMs.toFixed(1)} ms, epochs ${a.epochs.join(' ')}`,
    ...a.overlaps
      .slice(0, 5)
      .map((o) => `  overlap ${(o.toMs - o.fromMs).toFixed(1)} ms: ${o.running.join(', ')}`),
    ...a.epochViolations.map((v) => `  epoch: ${v}`),
    ...a.spanEpochMismatches.map((v) => `  span epoch: ${v}`),
    ...a.doubleStarts.map((v) => `  ${v}`),
    'procs:',
    ...a.procs.map(fmt),
    'spans:',
    ...a.spans.map((s) => `${fmt(s)}${a.ignoredSpans.includes(s) ? ' [not counted]' : ''}`),
  ].join('\n');
}

export interface Leftover {
  pid: number;
  cmdline: string;
}

function scan(marker: string): Leftover[] {
  const out: Leftover[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${d}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
      if (!cmdline.includes(marker)) continue;
      // a zombie waiting to be reaped is gone for our purpose
      if (/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${d}/stat`, 'utf8'))) continue;
      out.push({ pid, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/**
 * After a test: no process whose command line holds `marker` (the per-test workload log path)
 * may be alive. Waits up to `graceMs` for stragglers to finish exiting, then SIGKILLs (group and
 * process) whatever is left and returns it: the test fails on a non-empty result.
 */
export async function noLeftovers(marker: string, graceMs = 1500): Promise<Leftover[]> {
  const deadline = Date.now() + graceMs;
  let found = scan(marker);
  while (found.length > 0 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
    found = scan(marker);
  }
  killAll(found);
  return found;
}

/** SIGKILL, synchronously, everything holding `marker`: for afterEach and exit handlers. */
export function killLeftovers(marker: string): Leftover[] {
  const found = scan(marker);
  killAll(found);
  return found;
}

function killAll(found: readonly Leftover[]): void {
  for (const { pid } of found) {
    for (const target of [-pid, pid]) {
      try {
        process.kill(target, 'SIGKILL');
      } catch {
        // not a group leader, or gone
      }
    }
  }
}

/** YAML for one node of a unicast legion whose lord-only work is the workload. */
export interface NodeYaml {
  name: string;
  control: string;
  stateDir?: string;
  port: number;
  peers: number[];
  valor: number;
  secretFile: string;
  quorum?: number;
  intervalMs?: number;
  toleranceMs?: number;
  preempt?: boolean;
  lordDelayMs?: number;
  /** hook events to commands (argv lists) */
  hooks?: Partial<Record<string, string[][]>>;
  daemons?: Array<{ command: string[]; graceMs?: number; restartBackoffMs?: number }>;
  cron?: Array<{ schedule: string; command: string[] }>;
  checks?: Array<{ command: string; intervalMs?: number; weight: number; rise?: number; fall?: number }>;
  /** raw lines appended to the legion block (4-space indented already) */
  extra?: string[];
}

export function nodeYaml(n: NodeYaml): string {
  const j = JSON.stringify;
  const out = [
    `control: ${j(n.control)}`,
    ...(n.stateDir ? [`state_dir: ${j(n.stateDir)}`] : []),
    'log_level: debug',
    'legions:',
    '  - name: web',
    `    node_name: ${n.name}`,
    `    bind: 127.0.0.1:${n.port}`,
    `    peers: ${j(n.peers.map((p) => `127.0.0.1:${p}`))}`,
    `    valor: ${n.valor}`,
    `    secret_file: ${j(n.secretFile)}`,
    `    quorum: ${n.quorum ?? 1}`,
    `    interval: ${n.intervalMs ?? 150}ms`,
    `    tolerance: ${n.toleranceMs ?? 600}ms`,
    `    preempt: ${n.preempt ?? true}`,
    ...(n.lordDelayMs ? [`    lord_delay: ${n.lordDelayMs}ms`] : []),
    '    hook_timeout: 10s',
  ];
  const hooks = Object.entries(n.hooks ?? {});
  if (hooks.length > 0) {
    out.push('    hooks:');
    for (const [ev, cmds] of hooks) out.push(`      ${ev}: ${j(cmds)}`);
  }
  if (n.daemons?.length) {
    out.push('    daemons:');
    for (const d of n.daemons)
      out.push(
        `      - command: ${j(d.command)}`,
        `        grace: ${d.graceMs ?? 3000}ms`,
        `        restart_backoff: ${d.restartBackoffMs ?? 200}ms`,
      );
  }
  if (n.cron?.length) {
    out.push('    cron:');
    for (const c of n.cron)
      out.push(`      - schedule: ${j(c.schedule)}`, `        command: ${j(c.command)}`);
  }
  if (n.checks?.length) {
    out.push('    checks:');
    for (const c of n.checks)
      out.push(
        `      - command: ${j(c.command)}`,
        `        interval: ${c.intervalMs ?? 150}ms`,
        '        timeout: 1s',
        `        weight: ${c.weight}`,
        `        rise: ${c.rise ?? 1}`,
        `        fall: ${c.fall ?? 1}`,
      );
  }
  out.push(...(n.extra ?? []));
  return `${out.join('\n')}\n`;
}

/**
 * Everything the analysis and the leftover scan found wrong, one line each (empty: the promise
 * held): more than one runner at a time, epochs out of order or not the lordship's, a run outside
 * any lordship, a second lord hook within one lordship, a process left running.
 */
export function checkOneRunner(a: Analysis, leftovers: readonly Leftover[]): string[] {
  const p: string[] = [];
  if (a.maxConcurrency > 1)
    p.push(
      `max concurrency ${a.maxConcurrency}, overlap ${a.overlapMs.toFixed(1)} ms: ${a.overlaps
        .slice(0, 3)
        .map((o) => `[${o.running.join(', ')}] ${(o.toMs - o.fromMs).toFixed(1)} ms`)
        .join('; ')}`,
    );
  for (const v of a.epochViolations) p.push(`epoch order: ${v}`);
  for (const v of a.spanEpochMismatches) p.push(`epoch of run vs its lordship: ${v}`);
  for (const v of a.outsideSpan) p.push(`run outside a lordship: ${v}`);
  for (const v of a.doubleStarts) p.push(`second lord hook: ${v}`);
  for (const l of leftovers) p.push(`left running: pid ${l.pid} ${l.cmdline}`);
  return p;
}

// ---------------------------------------------------------------------------------------------
// A legion of real legiond processes (test/helpers/procs.ts) whose lord-only work is the workload

export interface WorkNode {
  name: string;
  port: number;
  spec: NodeYaml;
  file: string;
  proc: Proc | null;
}

export interface WorkLegionInit {
  base: number;
  /** valors by node: n1, n2, … (default 100, 200, 300) */
  valors?: number[];
  quorum?: number;
  intervalMs?: number;
  toleranceMs?: number;
  /** an attached daemon on every node (null: none) */
  daemon?: { termMs?: number; graceMs?: number } | null;
  cron?: { schedule: string; runMs?: number; termMs?: number } | null;
  /** lord/unlord hooks writing the span (default true) */
  hooks?: boolean;
  /** per-node additions */
  tweak?: (spec: NodeYaml) => void;
}

const execFileP = promisify(execFile);

export class WorkLegion {
  readonly w: WorkloadLog;
  readonly nodes: WorkNode[];
  readonly secret: string;

  constructor(
    readonly lab: Lab,
    readonly o: WorkLegionInit,
  ) {
    this.w = new WorkloadLog(lab.dir);
    this.secret = lab.secret();
    const valors = o.valors ?? [100, 200, 300];
    const ports = valors.map((_, i) => o.base + i);
    this.nodes = valors.map((valor, i) => {
      const name = `n${i + 1}`;
      const spec: NodeYaml = {
        name,
        control: lab.path(`${name}.sock`),
        stateDir: lab.path(`state-${name}`),
        port: ports[i]!,
        peers: ports.filter((_, j) => j !== i),
        valor,
        secretFile: this.secret,
        quorum: o.quorum ?? 1,
        intervalMs: o.intervalMs ?? 150,
        toleranceMs: o.toleranceMs ?? 600,
        hooks: o.hooks === false ? {} : { lord: [this.w.hook('lord')], unlord: [this.w.hook('unlord')] },
        daemons: o.daemon ? [{ command: this.w.daemon(o.daemon), graceMs: o.daemon.graceMs ?? 3000 }] : [],
        cron: o.cron ? [{ schedule: o.cron.schedule, command: this.w.cron(o.cron) }] : [],
      };
      o.tweak?.(spec);
      return { name, port: ports[i]!, spec, file: lab.path(`${name}.yaml`), proc: null };
    });
  }

  node(name: string): WorkNode {
    const n = this.nodes.find((x) => x.name === name);
    if (!n) throw new Error(`no node ${name}`);
    return n;
  }

  proc(name: string): Proc {
    const p = this.node(name).proc;
    if (!p) throw new Error(`${name} is not started`);
    return p;
  }

  /** (re)writes the node's YAML from its spec */
  write(name: string): string {
    const n = this.node(name);
    writeFileSync(n.file, nodeYaml(n.spec));
    return n.file;
  }

  /** starts (or starts again, as a new incarnation) the node's legiond */
  start(name: string): Proc {
    const n = this.node(name);
    n.proc = this.lab.legiond(name, ['--config', this.write(name)]);
    return n.proc;
  }

  /**
   * Starts `names` (default all) and waits until every one of them sees the best of them as lord.
   * Without a quorum the best starts first and the rest once it is lord, so no lower node holds
   * the title alone on the way.
   */
  async startAll(names = this.nodes.map((n) => n.name)): Promise<string> {
    const sorted = [...names].sort((a, b) => this.node(b).spec.valor - this.node(a).spec.valor);
    const top = sorted[0]!;
    if ((this.o.quorum ?? 1) <= 1) {
      await this.start(top).waitEvent('lord', 15_000);
    } else {
      // it cannot be lord alone; up first, it is heard by the others within their start grace
      await this.start(top).ready();
    }
    for (const n of sorted.slice(1)) this.start(n);
    await this.settle(top, names);
    return top;
  }

  /** until every node in `names` answers status with `lord` as lord and all of them as members */
  async settle(lord: string, names = this.running(), timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = '';
    for (;;) {
      const st = await Promise.all(names.map((n) => this.status(n)));
      last = JSON.stringify(st.map((s) => s && { name: s.name, lord: s.lord?.name, members: s.members }));
      if (st.every((s) => s !== null && s.lord?.name === lord && s.members >= names.length)) return;
      if (Date.now() > deadline)
        throw new Error(`timed out waiting for ${names.join(',')} to agree on ${lord}: ${last}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  running(): string[] {
    return this.nodes
      .filter((n) => n.proc && n.proc.child.exitCode === null && n.proc.child.signalCode === null)
      .map((n) => n.name);
  }

  async ctl(name: string, ...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const r = await execFileP(
        process.execPath,
        [LEGIONCTL, '--control', this.node(name).spec.control, ...args],
        {
          encoding: 'utf8',
          timeout: 10_000,
        },
      );
      return { code: 0, stdout: r.stdout, stderr: r.stderr };
    } catch (e) {
      const x = e as { code?: number; stdout?: string; stderr?: string };
      return {
        code: typeof x.code === 'number' ? x.code : 1,
        stdout: x.stdout ?? '',
        stderr: x.stderr ?? '',
      };
    }
  }

  async status(name: string): Promise<LegionStatus | null> {
    const r = await this.ctl(name, '--timeout', '2s', 'status', '--json');
    if (r.code !== 0) return null;
    try {
      return (JSON.parse(r.stdout) as StatusResult).legions[0] ?? null;
    } catch {
      return null;
    }
  }

  /** a workload line matching `pred`, waiting for it (bounded) */
  async waitLine(pred: (l: WorkLine) => boolean, what: string, timeoutMs = 10_000): Promise<WorkLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.w.lines().find(pred);
      if (hit) return hit;
      if (Date.now() > deadline) {
        const tail = this.w
          .lines()
          .slice(-8)
          .map((l) => `${l.node} ${l.kind} ${l.pid} @${l.epoch} ${l.phase}`);
        throw new Error(`timed out waiting for ${what}; last workload lines:\n${tail.join('\n')}`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /**
   * The first write of a new process of `kind` (default daemon) on node `name`: one whose first
   * line is at or after `sinceMs` (a process already running then does not count, even if it
   * writes later).
   */
  async firstWrite(
    name: string,
    sinceMs: number,
    what = 'its daemon',
    kind: LineKind = 'daemon',
    timeoutMs = 15_000,
  ): Promise<WorkLine> {
    return this.waitNew((l) => l.node === name && l.kind === kind, sinceMs, `${name}: ${what}`, timeoutMs);
  }

  /** the first line of the first process matching `pred` whose first line is at or after `sinceMs` */
  async waitNew(
    pred: (l: WorkLine) => boolean,
    sinceMs: number,
    what: string,
    timeoutMs = 15_000,
  ): Promise<WorkLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const seen = new Set<string>();
      for (const l of this.w.lines()) {
        if (!pred(l)) continue;
        const key = `${l.uuid} ${l.pid} ${l.kind}`;
        if (seen.has(key)) continue;
        seen.add(key);
        if (l.ms >= sinceMs) return l;
      }
      if (Date.now() > deadline) {
        const tail = this.w
          .lines()
          .slice(-8)
          .map((l) => `${l.node} ${l.kind} ${l.pid} @${l.epoch} ${l.phase}`);
        throw new Error(
          `timed out waiting for ${what}; last workload lines:\n${tail.join('\n')}\n${this.logTails()}`,
        );
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  /** per started node, its last log lines about lord-only work or at warn and above */
  logTails(n = 6): string {
    return this.nodes
      .filter((x) => x.proc)
      .map((x) => {
        const lines = x
          .proc!.lines.filter(
            (l) =>
              (typeof l.level === 'number' && l.level >= 40) || /cron|daemon|guard|lord/.test(String(l.msg)),
          )
          .slice(-n)
          .map((l) => `  ${JSON.stringify(l).slice(0, 400)}`);
        return [`${x.name}:`, ...lines, ...x.proc!.stderr.slice(-3)].join('\n');
      })
      .join('\n');
  }

  /** SIGCONT and SIGTERM every legiond still running, and waits for them (SIGKILL after 20 s) */
  async stopAll(): Promise<void> {
    const procs = this.nodes.map((n) => n.proc).filter((p): p is Proc => p !== null);
    for (const p of procs) {
      p.kill('SIGCONT');
      p.kill('SIGTERM');
    }
    await Promise.all(
      procs.map(async (p) => {
        const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
        await p.exited;
        clearTimeout(t);
      }),
    );
  }

  /** stops everything, then reads the log and looks for leftovers */
  async finish(o: AnalyzeOptions = {}): Promise<{ a: Analysis; leftovers: Leftover[]; problems: string[] }> {
    await this.stopAll();
    const leftovers = await noLeftovers(this.w.log);
    const a = this.w.analyze(o);
    return { a, leftovers, problems: checkOneRunner(a, leftovers) };
  }
}

/**
 * One WorkLegion per test with its own Lab, killed and cleaned up after it: call `make` in the
 * test and register `cleanup` with afterEach.
 */
export function workLegions(prefix = 'legiond-one-runner-') {
  let lab: Lab | null = null;
  let legion: WorkLegion | null = null;
  return {
    make(o: WorkLegionInit): WorkLegion {
      lab = new Lab(prefix);
      legion = new WorkLegion(lab, o);
      return legion;
    },
    lab(): Lab {
      if (!lab) throw new Error('workLegions: make() first');
      return lab;
    },
    async cleanup(): Promise<void> {
      if (legion) killLeftovers(legion.w.log);
      legion = null;
      await lab?.cleanup();
      lab = null;
    },
  };
}
