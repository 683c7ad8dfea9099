/**
 * The guard every lord-only process runs under, so that it never outlives this node's lease even
 * when legiond is SIGKILLed (the guard's control pipe reaches EOF) or SIGSTOPped / wedged (the
 * deadline legiond keeps pushing forward passes). See GUARD_SCRIPT for the exact timing.
 *
 * Why a bash guard: Node cannot reach prctl(PR_SET_PDEATHSIG) or PR_SET_CHILD_SUBREAPER without a
 * native addon, and a death signal would not cover a paused parent anyway; the deadline does. The
 * cost is one bash per workload (VmRSS about 3-4 MB, measured in test/hooks/guard.test.ts) and no
 * extra process for legiond itself. The guard forks nothing while legiond lives: /proc/uptime is
 * read with a builtin and `read -t` is its timer.
 *
 * Deadlines are absolute on CLOCK_BOOTTIME (/proc/uptime), which both sides read, so a legiond
 * paused between computing a renewal and writing it cannot extend the deadline: it was fixed
 * when computed. fenceAtMs is on the lease's monotonic clock; the offset between the two is read
 * once per guard. /proc/uptime is truncated to 10 ms, so the offset errs early, and a suspend
 * (BOOTTIME runs on, the monotonic clock does not) only moves a running guard's deadlines earlier.
 *
 * Limits: the guard kills its process group; a workload that moves itself to another group or
 * session escapes it (stopLeftovers in work-records.ts cannot find it either), and so does one
 * whose guard alone is killed (the OOM killer): work-records.ts covers that case at the next start.
 */
import { readFileSync } from 'node:fs';
import { LegiondError } from '../errors.js';
import type { LeaseSource, WorkLease } from './lease.js';
import { type RunningCommand, type RunOptions, runCommand } from './process.js';
import type { HookCommand, HookContext, HookLogger } from './types.js';

/**
 * argv: legiond-guard FENCE_GRACE_MS DEADLINE_MS CMD [ARG...]; fd 3: `D <ms>\n` lines from legiond.
 * - The workload runs as the guard's child, in the guard's process group, with the guard's fd 0
 *   (what legiond wrote for it, or /dev/null), 1 and 2, and INT/QUIT at their defaults (bash would
 *   ignore them in a background job).
 * - The latest D line is the deadline (ms of CLOCK_BOOTTIME). SIGTERM to the group at
 *   deadline - FENCE_GRACE_MS, SIGKILL to the group (the guard included) at the deadline. Once the
 *   SIGTERM went out, a new deadline can only bring the SIGKILL sooner.
 * - EOF on fd 3 (legiond is gone): SIGTERM at once, SIGKILL FENCE_GRACE_MS later (or at the
 *   deadline if that comes first).
 * - The workload's exit ends the guard with the same status (a signal death is re-raised), so
 *   legiond reports it as if it had run the workload itself. What the workload left in the group
 *   is lord-only work too: it gets SIGTERM, and SIGKILL FENCE_GRACE_MS later (or at the deadline),
 *   before the guard exits. Finding it takes one scan of /proc per exit (and per 50 ms while some
 *   is left): bash has no cheaper way to ask whether a group has other members.
 * - The guard traps TERM with a handler, not '' (which the workload would inherit as ignored): a
 *   stop by legiond (SIGTERM to the group, SIGKILL after a grace) reaches the workload and the
 *   guard stays until the workload is gone, then exits with its status.
 */
export const GUARD_SCRIPT = `
grace=$1 deadline=$2
shift 2
trap ':' TERM
( trap - INT QUIT; exec "$@" ) 0<&0 3<&- &
child=$!
exec 0</dev/null
# from here on nothing the guard starts is the workload; a write to a dead legiond must not kill it
trap '' PIPE
# others: the live members of our group but the guard (a /proc scan, once the workload is gone)
scan() {
  others=()
  local f p s
  for f in /proc/[0-9]*/stat; do
    read -r s 2>/dev/null <"$f" || continue
    # after the command name: state ppid pgrp ...
    s=\${s##*) }
    [[ $s == Z* ]] && continue
    s=\${s#* * } s=\${s%% *}
    p=\${f#/proc/} p=\${p%/stat}
    ((s == $$ && p != $$)) && others+=("$p")
  done
}
# ends the guard as the workload ended
relay() {
  case $st in
    129|130|137|141|142|143) trap - TERM; kill -n $((st - 128)) $$ ;;
  esac
  exit "$st"
}
termed=0 eof=0 eof_kill= buf= st= left_kill=
while :; do
  read -r up _ </proc/uptime
  now=$((10#\${up/./} * 10))
  if [[ -n $st ]]; then
    scan
    ((\${#others[@]})) || relay
  elif ! kill -0 "$child" 2>/dev/null; then
    wait "$child"; st=$?
    # what the workload left in the group is lord-only work too: it gets a grace, as in a stop
    scan
    ((\${#others[@]})) || relay
    kill -TERM -- -$$ 2>/dev/null
    left_kill=$((now + grace))
  fi
  kill_at=$deadline term_at=$((deadline - grace))
  if ((eof)); then
    ((eof_kill < kill_at)) && kill_at=$eof_kill
    term_at=0
  fi
  [[ -n $st ]] && ((left_kill < kill_at)) && kill_at=$left_kill
  if ((now >= kill_at)); then
    if [[ -n $st ]]; then
      # a SIGKILLed process takes a moment to die: the next turn (10 ms on) scans again and
      # relays once none is left; killing the group here would lose the workload's exit status
      kill -KILL "\${others[@]}" 2>/dev/null
    else
      ((eof)) || echo "legiond-guard: lease deadline passed; killing the workload's process group" >&2
      # (the guard is always spawned as a group leader; the fallback only keeps a mistake bounded)
      kill -KILL -- -$$ 2>/dev/null || { kill -KILL "$child"; kill -KILL $$; }
    fi
  fi
  if ((!termed && now >= term_at)); then
    termed=1
    ((eof)) || echo "legiond-guard: lease deadline near; stopping the workload" >&2
    kill -TERM -- -$$ 2>/dev/null || kill -TERM "$child"
  fi
  next=$(( (termed ? kill_at : term_at) - now ))
  [[ -n $st ]] && ((left_kill - now < next)) && next=$((left_kill - now))
  # a scan of /proc costs about 0.1 ms per process: while waiting for leftovers, look less often
  cap=50
  [[ -n $st ]] && cap=100
  ((next > cap)) && next=$cap
  ((next < 10)) && next=10
  printf -v t '0.%03d' "$next"
  if ((eof)); then
    # no fd left to time a read on: an external sleep, for at most the fence grace
    sleep "$t"
    continue
  fi
  if read -r -t "$t" -u 3 part; then
    line=$buf$part buf=
    if [[ $line =~ ^D\\ ([0-9]+)$ ]]; then
      d=$((10#\${BASH_REMATCH[1]}))
      # after the SIGTERM the kill can only come sooner
      if ((!termed || d < deadline)); then deadline=$d; fi
    fi
  elif (($? > 128)); then
    buf+=$part
  else
    eof=1 eof_kill=$((now + grace))
  fi
done
`;

/** ms of CLOCK_BOOTTIME, from /proc/uptime (what the guard reads) */
export function uptimeMs(): number {
  let ms = Number.NaN;
  try {
    ms = Math.round(Number.parseFloat(readFileSync('/proc/uptime', 'utf8')) * 1000);
  } catch (e) {
    throw new LegiondError('ERR_GUARD_CLOCK', `cannot read /proc/uptime: ${String(e)}`, { cause: e });
  }
  if (!Number.isFinite(ms)) throw new LegiondError('ERR_GUARD_CLOCK', '/proc/uptime does not hold a number');
  return ms;
}

/** bootMs = leaseMs + offset; read once per guard (see the module comment) */
export function bootOffsetMs(lease: LeaseSource): number {
  return uptimeMs() - lease.now();
}

export interface GuardOptions extends Omit<RunOptions, 'control'> {
  lease: LeaseSource;
  /** the workload gets SIGTERM this long before the fence and SIGKILL at it */
  fenceGraceMs: number;
  /** told about the guard's pid when it starts and when it is gone (work-records.ts) */
  records?: WorkRecordSink | undefined;
}

export interface WorkRecordSink {
  started(pid: number, command: HookCommand): void;
  exited(pid: number): void;
}

export interface GuardedCommand extends RunningCommand {
  /** the guard's pid, which is also the process group of the workload; undefined if not spawned */
  readonly guardPid: number | undefined;
}

/**
 * Starts a lord-only process under a guard bound to a lease. Two implementations follow one
 * contract: `systemGuarded` (the bash guard, GUARD_SCRIPT) and the simulator's virtual guard.
 * - `runGuarded` returns at once and never throws; what cannot start resolves `done` with a
 *   spawnError and a null pid. Callers check the lease (mayStartUnder) before; the guard only fences.
 * - The fence is `opts.lease`'s fenceAtMs, on its clock (`lease.now()`), followed through every
 *   change of the lease; a null lease is a fence in the past. SIGTERM to the workload's process
 *   group at fence - fenceGraceMs, SIGKILL to it at the fence. Once the SIGTERM went out, a new
 *   lease can only bring the SIGKILL sooner.
 * - The deadline is absolute: a legiond that is paused or wedged cannot push it back. When
 *   legiond dies, SIGTERM at once and SIGKILL fenceGraceMs later (or at the fence if sooner).
 * - `done` resolves with the workload's own status, as if it had been run directly (a signal
 *   death as that signal); what the workload left in its group gets SIGTERM, then SIGKILL
 *   fenceGraceMs later, before `done` resolves. `terminate()` and `timeoutMs` act as in
 *   RunningCommand (SIGTERM the group, SIGKILL killGraceMs later).
 * - `records` hears `started(pid)` once it runs and `exited(pid)` once `done` resolved.
 */
export interface GuardedSpawner {
  runGuarded(cmd: HookCommand, opts: GuardOptions): GuardedCommand;
}

/** why `mayStartUnder(lease, …)` said no, for the log */
export function leaseRefusal(
  lease: WorkLease | null,
): 'not lord' | 'lease not fresh' | 'lease allows no new work' {
  if (lease === null) return 'not lord';
  return lease.mayStart ? 'lease not fresh' : 'lease allows no new work';
}

function deadlineFor(lease: WorkLease | null, offset: number): number {
  // no lease: a deadline in the past, the guard fences at once
  return lease === null ? 0 : Math.max(0, Math.floor(lease.fenceAtMs + offset));
}

/**
 * Runs `cmd` under a guard bound to `opts.lease`; the RunningCommand's pid is the guard's. Never
 * throws: what cannot be started is reported through `done` (spawnError), as runCommand does.
 */
export function runGuarded(cmd: HookCommand, opts: GuardOptions): GuardedCommand {
  let offset: number;
  try {
    offset = bootOffsetMs(opts.lease);
  } catch (e) {
    // without the shared clock there is no guard, and lord-only work does not run unguarded
    const code = (e as LegiondError).code ?? 'ERR_GUARD_CLOCK';
    opts.logger.error({ ...opts.logFields, code, err: String(e) }, 'command could not be started');
    const outcome = { exitCode: null, signal: null, timedOut: false, spawnError: code, durationMs: 0 };
    return {
      pid: undefined,
      guardPid: undefined,
      done: Promise.resolve(outcome),
      terminate: async () => outcome,
    };
  }
  const workload = typeof cmd === 'string' ? ['/bin/sh', '-c', cmd] : [...cmd];
  const grace = Math.max(0, Math.floor(opts.fenceGraceMs));
  const { lease, fenceGraceMs: _g, records, ...runOpts } = opts;
  const initial = deadlineFor(lease.current(), offset);
  const run = runCommand(
    ['/bin/bash', '-c', GUARD_SCRIPT, 'legiond-guard', String(grace), String(initial), ...workload],
    { ...runOpts, control: true },
  );
  const pid = run.pid;
  const control = run.control;
  if (pid === undefined || !control) return { ...run, guardPid: undefined };
  records?.started(pid, cmd);

  // Latest wins; while the socket is full only the newest deadline waits for 'drain'.
  let pending: number | null = null;
  const send = (ms: number) => {
    if (control.destroyed || control.writableEnded) return;
    if (control.writableNeedDrain) pending = ms;
    else control.write(`D ${ms}\n`);
  };
  control.on('drain', () => {
    if (pending === null) return;
    const ms = pending;
    pending = null;
    send(ms);
  });
  const unsubscribe = lease.subscribe((l) => send(deadlineFor(l, offset)));
  void run.done.then(() => {
    unsubscribe();
    control.destroy();
    records?.exited(pid);
  });
  return { ...run, guardPid: pid };
}

/** the bash guard around real processes */
export const systemGuarded: GuardedSpawner = { runGuarded };

/** What every runner of lord-only work (cron runs, attached daemons) is given. */
export interface LordOnlyInit {
  legion: string;
  lease: LeaseSource;
  /** cap on the guard's SIGTERM-to-fence time; each process uses min(its own grace, this) */
  fenceGraceMs: number;
  /** a start needs the fence this far ahead; default: the process's fence grace */
  startMarginMs?: number;
  /** where guard pids are recorded (work-records.ts); `stateDir` uses the legion's shared one */
  records?: WorkRecordSink;
  stateDir?: string | null;
  /** the environment and stdin a process starts with (see viewContext); LEGION_EPOCH is the lease's */
  context: () => HookContext;
  logger: HookLogger;
  baseEnv?: NodeJS.ProcessEnv;
  /** what starts a process under its guard; default the bash guard */
  guarded?: GuardedSpawner;
}
