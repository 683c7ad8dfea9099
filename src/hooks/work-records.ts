/**
 * Which guarded process groups this legiond started, on disk, so the next legiond can stop the
 * ones that outlived it before its setup hook runs. The guard normally does that by itself
 * (guard.ts); this covers a guard that was killed alone (the OOM killer) or frozen with legiond
 * and a restart quicker than the fence.
 *
 * A record is the guard's pid, which is also its process group, plus the pid's start time
 * (field 22 of /proc/<pid>/stat, clock ticks since boot), so a reused pid is never signalled.
 */
import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { LegiondError } from '../errors.js';
import { groupAlive, signalGroup } from './group.js';
import type { WorkRecordSink } from './guard.js';
import { commandText, type HookCommand, type HookLogger } from './types.js';

export interface WorkRecord {
  pid: number;
  /** /proc/<pid>/stat field 22 */
  startTime: string;
  command: string;
}

interface Stat {
  state: string;
  pgrp: number;
  session: number;
  startTime: string;
}

/** null when `pid` does not exist */
function readStat(pid: number): Stat | null {
  let text: string;
  try {
    text = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return null;
  }
  // the command name may hold spaces and parentheses: fields are counted after the last ')'
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // f[0] is field 3 (state): pgrp is field 5, session 6, starttime 22
  return { state: f[0] ?? '', pgrp: Number(f[2]), session: Number(f[3]), startTime: f[19] ?? '' };
}

export function procStartTime(pid: number): string | null {
  return readStat(pid)?.startTime ?? null;
}

export function workRecordsPath(stateDir: string, legion: string): string {
  return join(stateDir, `${legion}.work.json`);
}

const shared = new Map<string, WorkRecords>();

/** The records of one legion; cron and daemons of the legion (old and new sets alike) share one. */
export class WorkRecords implements WorkRecordSink {
  private readonly records = new Map<number, WorkRecord>();
  private readonly file: string;

  /** one instance per file in this process, so writers never overwrite each other's records */
  static shared(stateDir: string, legion: string, logger?: HookLogger): WorkRecords {
    const file = workRecordsPath(stateDir, legion);
    let r = shared.get(file);
    if (!r) {
      r = new WorkRecords(stateDir, legion, logger);
      shared.set(file, r);
    }
    return r;
  }

  /** starts empty and overwrites the file at the first change: call stopLeftovers before */
  constructor(
    private readonly stateDir: string,
    legion: string,
    private readonly logger?: HookLogger,
  ) {
    this.file = workRecordsPath(stateDir, legion);
  }

  list(): WorkRecord[] {
    return [...this.records.values()];
  }

  started(pid: number, command: HookCommand): void {
    const startTime = procStartTime(pid);
    // gone already (it failed at once): nothing to leave behind
    if (startTime === null) return;
    this.records.set(pid, { pid, startTime, command: commandText(command) });
    this.write();
  }

  exited(pid: number): void {
    if (this.records.delete(pid)) this.write();
  }

  private write(): void {
    try {
      mkdirSync(this.stateDir, { recursive: true });
      writeAtomically(this.file, `${JSON.stringify({ records: this.list() })}\n`);
    } catch (e) {
      // the guard still bounds the work; a lost record only weakens the next start's clean-up
      this.logger?.warn(
        { code: 'ERR_WORK_RECORDS_WRITE', file: this.file, err: String(e) },
        'cannot write the work records',
      );
    }
  }
}

function writeAtomically(file: string, text: string): void {
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, file);
}

export function readWorkRecords(file: string): WorkRecord[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw new LegiondError('ERR_WORK_RECORDS_READ', `cannot read ${file}: ${String(e)}`, { cause: e });
  }
  try {
    const parsed = JSON.parse(text) as { records?: unknown };
    if (!Array.isArray(parsed.records)) throw new Error('no records array');
    return parsed.records.filter(
      (r): r is WorkRecord =>
        typeof r === 'object' &&
        r !== null &&
        Number.isSafeInteger((r as WorkRecord).pid) &&
        (r as WorkRecord).pid > 1 &&
        typeof (r as WorkRecord).startTime === 'string',
    );
  } catch (e) {
    throw new LegiondError('ERR_WORK_RECORDS_INVALID', `${file} is not a work records file`, { cause: e });
  }
}

/** the processes in /proc matching `pred` (a scan: only for the rare clean-up at start) */
function anyProcess(pred: (s: Stat) => boolean): boolean {
  let dirs: string[];
  try {
    dirs = readdirSync('/proc');
  } catch {
    return false;
  }
  for (const d of dirs) {
    if (!/^\d+$/.test(d)) continue;
    const s = readStat(Number(d));
    if (s && pred(s)) return true;
  }
  return false;
}

/**
 * Whether the group of `r` is still the one we started. The guard alive with its start time: yes.
 * The guard gone but members of its group left in its session: yes too, since Linux does not
 * reuse a pid while a group or session of that number exists, and our members started after it.
 */
function stillOurs(r: WorkRecord): boolean {
  const leader = readStat(r.pid);
  if (leader) return leader.startTime === r.startTime;
  if (!groupAlive(r.pid)) return false;
  const since = BigInt(r.startTime);
  return anyProcess((s) => s.pgrp === r.pid && s.session === r.pid && BigInt(s.startTime) >= since);
}

/** a group of zombies only is gone for our purpose: whoever reaps orphans may be slow to */
function groupLive(pgid: number): boolean {
  return groupAlive(pgid) && anyProcess((s) => s.pgrp === pgid && s.state !== 'Z');
}

/**
 * Stops the process groups a previous legiond recorded for `legion` that still run: SIGTERM,
 * up to `graceMs` for them to go, then SIGKILL. Clears the file. Returns how many groups it
 * signalled. Called before the setup hook, before anything new is started.
 */
export async function stopLeftovers(
  stateDir: string,
  legion: string,
  logger: HookLogger,
  graceMs = 2000,
): Promise<number> {
  const file = workRecordsPath(stateDir, legion);
  let records: WorkRecord[];
  try {
    records = readWorkRecords(file);
  } catch (e) {
    logger.warn({ legion, code: (e as LegiondError).code, err: String(e) }, 'work records ignored');
    records = [];
  }
  const live = records.filter(stillOurs);
  for (const r of live) {
    logger.warn({ legion, pid: r.pid, command: r.command }, 'stopping lord-only work left by a previous run');
    signalGroup(r.pid, 'SIGTERM');
  }
  const until = performance.now() + graceMs;
  while (live.some((r) => groupLive(r.pid)) && performance.now() < until)
    await new Promise((res) => setTimeout(res, 20));
  for (const r of live) if (groupLive(r.pid)) signalGroup(r.pid, 'SIGKILL');
  rmSync(file, { force: true });
  return live.length;
}
