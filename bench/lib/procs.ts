/**
 * Child processes of the bench. Each runs in its own process group (uWSGI's master and worker die
 * together on a crash); every group still alive is SIGKILLed when the bench exits, however it exits.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';

const live = new Set<Proc>();

export class Proc {
  readonly pid: number;
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private done = false;

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    if (child.pid === undefined) throw new Error(`could not start ${name}`);
    this.pid = child.pid;
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        this.done = true;
        resolve();
      });
    });
    live.add(this);
  }

  get running(): boolean {
    return !this.done;
  }

  /** Signal to the process itself (SIGTERM: the daemon's own clean shutdown). */
  signal(sig: NodeJS.Signals): void {
    if (this.done) return;
    try {
      process.kill(this.pid, sig);
    } catch {
      // already gone
    }
  }

  /** Signal to the whole process group (SIGKILL: a host crash). */
  signalGroup(sig: NodeJS.Signals): void {
    try {
      process.kill(-this.pid, sig);
    } catch {
      // group already gone
    }
  }

  /** Waits up to `ms` for the exit; true when it exited. */
  async waitExit(ms: number): Promise<boolean> {
    if (this.done) return true;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), ms);
    });
    const ok = await Promise.race([this.exited.then(() => true as const), timeout]);
    clearTimeout(timer);
    return ok;
  }

  /** SIGTERM, then SIGKILL of the group after `graceMs`; leaves nothing of the group behind. */
  async stop(graceMs = 5000): Promise<void> {
    this.signal('SIGTERM');
    if (!(await this.waitExit(graceMs))) this.signalGroup('SIGKILL');
    await this.waitExit(2000);
    this.signalGroup('SIGKILL');
    live.delete(this);
  }

  async crash(): Promise<void> {
    this.signalGroup('SIGKILL');
    await this.waitExit(5000);
    live.delete(this);
  }
}

export interface SpawnOptions {
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export function spawnProc(name: string, cmd: string, args: string[], o: SpawnOptions): Proc {
  const fd = openSync(o.logFile, 'a');
  try {
    const child = spawn(cmd, args, {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: o.env ?? process.env,
      cwd: o.cwd,
    });
    return new Proc(name, child);
  } finally {
    closeSync(fd);
  }
}

/** Synchronous, so it can run from an 'exit' handler. */
export function killAllNow(): void {
  for (const p of live) p.signalGroup('SIGKILL');
  live.clear();
}

let installed = false;

/** Kills every child group on exit, Ctrl-C, SIGTERM or an uncaught error. */
export function installCleanup(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(sig, () => {
      killAllNow();
      process.stderr.write(`bench: ${sig}, children killed\n`);
      process.exit(130);
    });
  }
}
