/**
 * What starts a command (a hook, a valor check), apart from its implementation, so the simulator
 * can run the production hook code against virtual processes. The daemon uses `systemSpawner`.
 */
import { type RunningCommand, type RunOptions, runCommand } from './process.js';
import type { HookCommand } from './types.js';

/**
 * Starts `cmd` at once and never throws: a command that cannot start reports it through `done`
 * (spawnError). The timeout, the kill grace and the output to the logger are the spawner's job.
 */
export interface Spawner {
  run(cmd: HookCommand, opts: RunOptions): RunningCommand;
}

/** real processes, each the leader of its own process group (process.ts) */
export const systemSpawner: Spawner = { run: runCommand };
