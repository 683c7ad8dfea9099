/**
 * Real legiond processes for tests: spawn the built CLI, collect its JSON log lines, wait for a
 * line matching a predicate (bounded), and make sure nothing outlives the test.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const LEGIOND = join(ROOT, 'dist', 'src', 'cli', 'legiond.js');
export const LEGIONCTL = join(ROOT, 'dist', 'src', 'cli', 'legionctl.js');

export function requireBuild(): void {
  if (!existsSync(LEGIOND)) {
    throw new Error(`${LEGIOND} is missing: run "npm run build" first (npm test does it)`);
  }
}

export type LogLine = Record<string, unknown> & { msg?: string; event?: string };

export class Proc {
  readonly lines: LogLine[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private waiters: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (l) => {
      try {
        this.lines.push(JSON.parse(l) as LogLine);
      } catch {
        this.lines.push({ msg: l, raw: true });
      }
      this.wake();
    });
    createInterface({ input: child.stderr! }).on('line', (l) => {
      this.stderr.push(l);
      this.wake();
    });
    this.exited = new Promise((r) => child.on('exit', (code, signal) => r({ code, signal })));
    void this.exited.then(() => this.wake());
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  events(type?: string): LogLine[] {
    return this.lines.filter(
      (l) =>
        typeof l.event === 'string' &&
        l.msg !== 'hook started' &&
        l.msg !== 'hook finished' &&
        !('command' in l) &&
        (type === undefined || l.event === type),
    );
  }

  /** resolves with the first line (from the start) matching, or rejects after timeoutMs */
  /** the index the next line will have: pass it as `since` to wait only for what follows */
  mark(): number {
    return this.lines.length;
  }

  async waitFor(
    pred: (l: LogLine) => boolean,
    timeoutMs = 10_000,
    what = 'a log line',
    since = 0,
  ): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = this.lines.find((l, i) => i >= since && pred(l));
      if (hit) return hit;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `${this.name}: timed out waiting for ${what}; last lines:\n${this.lines
            .slice(-15)
            .map((l) => JSON.stringify(l))
            .join('\n')}\n${this.stderr.join('\n')}`,
        );
      }
      await new Promise<void>((r) => {
        const t = setTimeout(r, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(t);
          r();
        });
      });
    }
  }

  waitEvent(type: string, timeoutMs = 10_000, since = 0): Promise<LogLine> {
    return this.waitFor((l) => l.event === type && !('command' in l), timeoutMs, `event ${type}`, since);
  }

  /** the control socket is up once this line is logged */
  ready(timeoutMs = 10_000): Promise<LogLine> {
    return this.waitFor((l) => l.msg === 'legiond running', timeoutMs, 'legiond running');
  }

  kill(sig: NodeJS.Signals = 'SIGTERM'): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill(sig);
  }
}

/** A scratch directory plus every process started in it, torn down together. */
export class Lab {
  readonly dir: string;
  readonly procs: Proc[] = [];

  constructor(prefix = 'legiond-test-') {
    this.dir = mkdtempSync(join(tmpdir(), prefix));
  }

  path(name: string): string {
    return join(this.dir, name);
  }

  secret(name = 'secret', value = 'correct horse battery staple'): string {
    const p = this.path(name);
    writeFileSync(p, value, { mode: 0o600 });
    return p;
  }

  legiond(name: string, args: string[], env: NodeJS.ProcessEnv = {}): Proc {
    requireBuild();
    const child = spawn(process.execPath, [LEGIOND, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, ...env },
    });
    const p = new Proc(name, child);
    this.procs.push(p);
    return p;
  }

  /** flags for node i of a unicast legion on ports base..base+n-1 */
  nodeArgs(o: {
    legion: string;
    base: number;
    i: number;
    n: number;
    valor: number;
    extra?: string[];
  }): string[] {
    const peers: string[] = [];
    for (let j = 0; j < o.n; j++) if (j !== o.i) peers.push('--peer', `127.0.0.1:${o.base + j}`);
    return [
      '--legion',
      o.legion,
      '--bind',
      `127.0.0.1:${o.base + o.i}`,
      ...peers,
      '--valor',
      String(o.valor),
      '--node-name',
      `n${o.i + 1}`,
      '--control',
      this.path(`n${o.i + 1}.sock`),
      '--log-level',
      'debug',
      ...(o.extra ?? []),
    ];
  }

  /**
   * A unicast legion of n nodes with valors 100, 200, … on ports base.., started highest first
   * and the others once it is lord, so no lower node ever holds the title alone during a
   * staggered start. `extra(i)` adds flags for node i (a secret file is always given).
   */
  async legion(base: number, n: number, extra: (i: number) => string[] = () => []): Promise<Proc[]> {
    const secret = this.secret();
    const start = (i: number) =>
      this.legiond(
        `n${i + 1}`,
        this.nodeArgs({
          legion: 'web',
          base,
          i,
          n,
          valor: (i + 1) * 100,
          extra: ['--secret-file', secret, ...extra(i)],
        }),
      );
    const top = start(n - 1);
    await top.waitEvent('lord');
    const rest = Array.from({ length: n - 1 }, (_, i) => start(i));
    const topName = `n${n}`;
    for (const p of rest) {
      await p.waitFor(
        (l) => l.event === 'node-joined' && l.member === topName,
        10_000,
        `${topName} to be seen`,
      );
    }
    await Promise.all([...rest, top].map((p) => p.ready()));
    return [...rest, top];
  }

  async cleanup(): Promise<void> {
    for (const p of this.procs) p.kill('SIGKILL');
    await Promise.all(
      this.procs.map((p) => Promise.race([p.exited, new Promise((r) => setTimeout(r, 3000))])),
    );
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function legionctl(args: string[], opts: { uid?: number; gid?: number } = {}) {
  requireBuild();
  const r = spawnSync(process.execPath, [LEGIONCTL, ...args], { encoding: 'utf8', timeout: 10_000, ...opts });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** polls a condition every 100 ms, failing with `what` after timeoutMs */
export async function until(pred: () => boolean, what: string, timeoutMs = 8000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** a zombie waiting for a slow init to reap it counts as dead */
export function isAlive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
