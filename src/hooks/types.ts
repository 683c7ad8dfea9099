/** Shared shapes of src/hooks: what a command is, what a run reports, and the logger it writes to. */
import type { HookEvent } from '../legion/types.js';

/** A shell string (run by `/bin/sh -c`) or an argv array (run directly, no shell). */
export type HookCommand = string | readonly string[];

/** The subset of a pino logger the hook code uses, so tests can pass a recorder. */
export interface HookLogger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

/** How one command run ended. `exitCode` is null when it died by a signal or never spawned. */
export interface RunOutcome {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  /** set when the command could not be started at all (ENOENT, EACCES, …) */
  spawnError: string | null;
  durationMs: number;
}

export interface HookResult extends RunOutcome {
  event: HookEvent;
  command: HookCommand;
  /** true when the command exited 0 without timing out */
  ok: boolean;
}

/** Environment and stdin a command starts with; built from a LegionEvent or a LegionView. */
export interface HookContext {
  env: Record<string, string>;
  stdin: string;
}

/** Injected clock, so timer-driven parts (backoff resets) can be tested without waiting. */
export interface Clock {
  now(): number;
}

export function commandText(cmd: HookCommand): string {
  return typeof cmd === 'string' ? cmd : cmd.join(' ');
}
