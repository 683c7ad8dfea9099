/**
 * Runs one command as the leader of its own process group, so a timeout or a stop can kill
 * everything it started (a shell's children included). Output goes to the logger line by line.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import { groupAlive, signalGroup } from './group.js';
import { LineBudget, LineSink } from './lines.js';
import type { HookCommand, HookLogger, RunOutcome } from './types.js';

export const DEFAULT_KILL_GRACE_MS = 1000;
export const DEFAULT_MAX_LINE_BYTES = 4096;
export const DEFAULT_MAX_LINES = 1000;
/** After the leader exits, how long to wait for its output pipes to close before reporting. */
const OUTPUT_DRAIN_MS = 200;
const GROUP_POLL_MS = 20;

export interface RunOptions {
  /** complete environment of the child */
  env: NodeJS.ProcessEnv;
  /** written to the child's stdin, which is then closed; null leaves stdin closed */
  stdin: string | null;
  /** null: no timeout */
  timeoutMs: number | null;
  /** between SIGTERM and SIGKILL */
  killGraceMs?: number;
  logger: HookLogger;
  /** added to every log line of this run */
  logFields: Record<string, unknown>;
  outputLevel?: 'debug' | 'info';
  maxLineBytes?: number;
  maxLines?: number;
  /** open a pipe on the child's fd 3 and keep it open (RunningCommand.control): the guard's deadlines */
  control?: boolean;
}

export interface RunningCommand {
  /** undefined when the command could not be spawned */
  readonly pid: number | undefined;
  readonly done: Promise<RunOutcome>;
  /** SIGTERM the group, SIGKILL it after the grace; `done` resolves once the leader is gone */
  terminate(): Promise<RunOutcome>;
  /** the write end of the child's fd 3 when RunOptions.control was set, else null */
  readonly control?: Writable | null;
}

export function runCommand(cmd: HookCommand, opts: RunOptions): RunningCommand {
  const started = performance.now();
  const grace = opts.killGraceMs ?? DEFAULT_KILL_GRACE_MS;
  const outLevel = opts.outputLevel ?? 'info';
  let child: ChildProcess;
  const [file, args] = typeof cmd === 'string' ? ['/bin/sh', ['-c', cmd]] : [cmd[0] ?? '', cmd.slice(1)];
  try {
    child = spawn(file, args, {
      detached: true,
      env: opts.env,
      stdio: [
        opts.stdin === null ? 'ignore' : 'pipe',
        'pipe',
        'pipe',
        ...(opts.control ? ['pipe' as const] : []),
      ],
    });
  } catch (e) {
    // spawn throws synchronously for bad arguments (a NUL byte in env, say)
    const outcome = failedSpawn(e, started);
    opts.logger.error({ ...opts.logFields, err: outcome.spawnError }, 'command could not be started');
    return { pid: undefined, done: Promise.resolve(outcome), terminate: async () => outcome };
  }

  let timedOut = false;
  let killTimer: NodeJS.Timeout | undefined;
  let timeoutTimer: NodeJS.Timeout | undefined;
  let terminating = false;
  const pid = child.pid;

  const budget = new LineBudget(opts.maxLines ?? DEFAULT_MAX_LINES);
  const sinks = (['stdout', 'stderr'] as const).map((stream) => {
    const sink = new LineSink(opts.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES, budget, (line) =>
      opts.logger[outLevel]({ ...opts.logFields, pid, stream }, line),
    );
    child[stream]?.on('data', (chunk: Buffer) => sink.push(chunk));
    return sink;
  });
  const flushOutput = () => {
    for (const s of sinks) s.end();
    if (budget.dropped > 0)
      opts.logger.warn({ ...opts.logFields, pid, dropped: budget.dropped }, 'command output truncated');
  };

  if (child.stdin) {
    // A command that ignores its stdin and exits early makes this EPIPE; that is not a failure.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.stdin ?? '');
  }

  let exited = false;
  const kill = () => {
    // After the leader is reaped its pid may be reused; never signal a group we no longer own.
    if (pid === undefined || terminating || exited) return;
    terminating = true;
    signalGroup(pid, 'SIGTERM');
    killTimer = setTimeout(() => signalGroup(pid, 'SIGKILL'), grace);
  };

  const done = new Promise<RunOutcome>((resolve) => {
    let settled = false;
    const finish = (outcome: RunOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timeoutTimer);
      resolve(outcome);
    };
    child.once('error', (e) => {
      // 'error' without a pid means the spawn itself failed (ENOENT, EACCES, …)
      if (pid === undefined) {
        const outcome = failedSpawn(e, started);
        opts.logger.error({ ...opts.logFields, err: outcome.spawnError }, 'command could not be started');
        finish(outcome);
      }
    });
    child.once('exit', (code, signal) => {
      exited = true;
      clearTimeout(timeoutTimer);
      const outcome: RunOutcome = {
        exitCode: code,
        signal,
        timedOut,
        spawnError: null,
        durationMs: Math.round(performance.now() - started),
      };
      const report = () => {
        flushOutput();
        finish(outcome);
      };
      if (terminating && pid !== undefined && groupAlive(pid)) {
        // Others in the group outlived the leader: wait for them up to the end of the grace,
        // when the pending SIGKILL reaches them too.
        const waitStarted = performance.now();
        const poll = setInterval(() => {
          const expired = performance.now() - waitStarted >= grace;
          if (expired) signalGroup(pid, 'SIGKILL');
          if (expired || !groupAlive(pid)) {
            clearInterval(poll);
            clearTimeout(killTimer);
            report();
          }
        }, GROUP_POLL_MS);
        return;
      }
      clearTimeout(killTimer);
      const drain = setTimeout(report, OUTPUT_DRAIN_MS);
      child.once('close', () => {
        clearTimeout(drain);
        report();
      });
    });
  });

  if (opts.timeoutMs !== null && pid !== undefined) {
    timeoutTimer = setTimeout(() => {
      timedOut = true;
      opts.logger.warn(
        { ...opts.logFields, pid, timeoutMs: opts.timeoutMs },
        'command timed out; killing its process group',
      );
      kill();
    }, opts.timeoutMs);
  }

  const control = opts.control ? ((child.stdio[3] as Writable | null | undefined) ?? null) : null;
  // Writing to a guard that is gone fails with EPIPE; its exit is reported through `done`.
  control?.on('error', () => {});
  return {
    pid,
    done,
    control,
    terminate: () => {
      kill();
      return done;
    },
  };
}

function failedSpawn(e: unknown, started: number): RunOutcome {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return {
    exitCode: null,
    signal: null,
    timedOut: false,
    spawnError: code ?? (e instanceof Error ? e.message : String(e)),
    durationMs: Math.round(performance.now() - started),
  };
}

export function outcomeOk(o: RunOutcome): boolean {
  return o.exitCode === 0 && !o.timedOut && o.spawnError === null;
}
