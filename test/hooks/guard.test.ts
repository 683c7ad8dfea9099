import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { signalGroup } from '../../src/hooks/group.js';
import { LeaseCell, type RunOutcome, runGuarded, uptimeMs } from '../../src/hooks/index.js';
import { alive, eventually, readPid, recordingLogger } from './helpers.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'legiond-guard-'));
const groups: number[] = [];
const parents: ChildProcess[] = [];
afterEach(() => {
  for (const p of parents.splice(0)) {
    p.kill('SIGCONT');
    p.kill('SIGKILL');
  }
  for (const g of groups.splice(0)) signalGroup(g, 'SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let seq = 0;
const pidFile = () => join(dir, `w${++seq}.pid`);
const hasPid = (f: string) => existsSync(f) && readFileSync(f, 'utf8').trim() !== '';

function cell(leaseMs: number): { lease: LeaseCell; renew: (ms?: number) => void } {
  const lease = new LeaseCell(() => performance.now());
  const renew = (ms = leaseMs) => lease.set({ epoch: 3n, fenceAtMs: performance.now() + ms, mayStart: true });
  renew();
  return { lease, renew };
}

function guarded(command: string, lease: LeaseCell, fenceGraceMs: number, stdin: string | null = null) {
  const logger = recordingLogger();
  const run = runGuarded(command, {
    env: process.env,
    stdin,
    timeoutMs: null,
    killGraceMs: 300,
    logger,
    logFields: {},
    lease,
    fenceGraceMs,
  });
  if (run.guardPid) groups.push(run.guardPid);
  let outcome: RunOutcome | null = null;
  void run.done.then((o) => {
    outcome = o;
  });
  return { run, logger, outcome: () => outcome };
}

/** the stand-in legiond of guard-child.ts, once its workload runs */
async function parent(o: {
  leaseMs: number;
  renewEveryMs: number;
  fenceGraceMs: number;
  ignoreTerm?: boolean;
}) {
  const file = pidFile();
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', join(ROOT, 'test/hooks/guard-child.ts'), JSON.stringify({ pidFile: file, ...o })],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  parents.push(child);
  const line = await new Promise<string>((res, rej) => {
    createInterface({ input: child.stdout! }).once('line', res);
    child.once('exit', () => rej(new Error('guard-child exited early')));
  });
  const { guardPid } = JSON.parse(line) as { guardPid: number };
  groups.push(guardPid);
  return { child, guardPid, workload: readPid(file) };
}

describe('runGuarded', () => {
  it('kills the workload group soon after legiond is SIGKILLed (EOF on the control pipe)', async () => {
    const p = await parent({ leaseMs: 60_000, renewEveryMs: 0, fenceGraceMs: 300 });
    expect(alive(p.workload)).toBe(true);
    const t0 = performance.now();
    p.child.kill('SIGKILL');
    expect(await eventually(() => !alive(p.workload) && !alive(p.guardPid), 200)).toBe(true);
    // the workload obeys SIGTERM, which goes out at once on EOF: far sooner than the lease
    expect(performance.now() - t0).toBeLessThan(1500);
  });

  it('SIGKILLs a TERM-ignoring workload fenceGraceMs after the EOF', async () => {
    const p = await parent({ leaseMs: 60_000, renewEveryMs: 0, fenceGraceMs: 1500, ignoreTerm: true });
    const t0 = performance.now();
    p.child.kill('SIGKILL');
    await sleep(500);
    expect(alive(p.workload)).toBe(true);
    expect(await eventually(() => !alive(p.workload), 300)).toBe(true);
    expect(performance.now() - t0).toBeGreaterThan(1400);
  });

  it('kills the workload at the deadline while legiond is SIGSTOPped', async () => {
    const p = await parent({ leaseMs: 3000, renewEveryMs: 100, fenceGraceMs: 500 });
    // past the initial deadline: the renewals work
    await sleep(3300);
    expect(alive(p.workload)).toBe(true);
    const stoppedAt = uptimeMs();
    p.child.kill('SIGSTOP');
    // SIGTERM at the last renewal + 2.5 s: 1.2 s after the stop leaves a lagging renewal 1.3 s
    await sleep(1200);
    expect(alive(p.workload)).toBe(true);
    expect(await eventually(() => !alive(p.workload), 400)).toBe(true);
    const goneAfter = uptimeMs() - stoppedAt;
    expect(goneAfter).toBeGreaterThan(1200);
    expect(goneAfter).toBeLessThan(3000 + 1000);
    // the guard went with it (it relays the workload's end), legiond still stopped
    expect(await eventually(() => !alive(p.guardPid), 100)).toBe(true);
  });

  it('renewals keep a workload alive past several initial deadlines; it dies once they stop', async () => {
    // lease 1 s renewed every 50 ms: only an event loop stalled for 800 ms would lose it
    const { lease, renew } = cell(1000);
    const file = pidFile();
    const g = guarded(`echo $$ > ${file}; exec sleep 100`, lease, 200);
    const timer = setInterval(() => renew(), 50);
    try {
      await sleep(3500);
      expect(hasPid(file) && alive(readPid(file))).toBe(true);
      expect(g.outcome()).toBeNull();
    } finally {
      clearInterval(timer);
    }
    const t0 = performance.now();
    expect(await eventually(() => g.outcome() !== null, 300)).toBe(true);
    expect(performance.now() - t0).toBeLessThan(1000 + 500);
    // SIGTERM at the deadline less the fence grace; sleep obeys it and the guard relays it
    expect(g.outcome()).toMatchObject({ signal: 'SIGTERM' });
    expect(g.logger.entries.some((e) => String(e.msg).includes('lease deadline near'))).toBe(true);
  });

  it('SIGKILLs a workload that ignores SIGTERM at the deadline, after a SIGTERM at deadline - grace', async () => {
    // SIGTERM at 1.5 s, SIGKILL at 3 s
    const { lease } = cell(3000);
    const file = pidFile();
    const terms = join(dir, 'terms.txt');
    const g = guarded(
      `trap 'echo term >> ${terms}' TERM; echo $$ > ${file}; while :; do sleep 0.05; done`,
      lease,
      1500,
    );
    const t0 = performance.now();
    await sleep(2200);
    expect(existsSync(terms) && readFileSync(terms, 'utf8')).toBe('term\n');
    expect(alive(readPid(file))).toBe(true);
    expect(await eventually(() => g.outcome() !== null, 300)).toBe(true);
    expect(performance.now() - t0).toBeGreaterThan(2800);
    expect(g.outcome()).toMatchObject({ signal: 'SIGKILL' });
    expect(alive(readPid(file))).toBe(false);
  });

  it('fences at once when the lease goes away', async () => {
    const { lease } = cell(60_000);
    const file = pidFile();
    const g = guarded(`echo $$ > ${file}; exec sleep 100`, lease, 500);
    expect(await eventually(() => hasPid(file))).toBe(true);
    lease.set(null);
    expect(await eventually(() => g.outcome() !== null, 100)).toBe(true);
    expect(alive(readPid(file))).toBe(false);
    // the guard is gone: a later change must not throw (EPIPE is quiet, the listener is off)
    lease.set({ epoch: 4n, fenceAtMs: performance.now() + 1000, mayStart: true });
  });

  it('relays exit status and stdin, and is stopped by terminate() like an unguarded command', async () => {
    const { lease } = cell(60_000);
    const g = guarded('read x; echo "got $x"; exit 3', lease, 500, 'hello\n');
    const outcome = await g.run.done;
    expect(outcome).toMatchObject({ exitCode: 3, signal: null });
    expect(g.logger.entries.map((e) => e.msg)).toContain('got hello');

    const file = pidFile();
    const h = guarded(`echo $$ > ${file}; exec sleep 100`, lease, 500);
    expect(await eventually(() => hasPid(file))).toBe(true);
    const stopped = await h.run.terminate();
    // the guard outlived the SIGTERM until its child was gone, then re-raised its signal
    expect(stopped).toMatchObject({ signal: 'SIGTERM' });
    expect(alive(readPid(file))).toBe(false);
  });

  it('stops what the workload left in its group before relaying its exit', async () => {
    const { lease } = cell(60_000);
    const file = pidFile();
    const g = guarded(`sleep 100 & echo $! > ${file}; exit 0`, lease, 600);
    expect(await g.run.done).toMatchObject({ exitCode: 0, signal: null });
    expect(alive(readPid(file))).toBe(false);

    // one that ignores SIGTERM gets SIGKILL a fence grace later
    const stubborn = pidFile();
    const h = guarded(`(trap '' TERM; exec sleep 100) & echo $! > ${stubborn}; exit 5`, lease, 600);
    const t0 = performance.now();
    expect(await eventually(() => hasPid(stubborn))).toBe(true);
    await sleep(300);
    expect(alive(readPid(stubborn))).toBe(true);
    expect(h.outcome()).toBeNull();
    expect(await h.run.done).toMatchObject({ exitCode: 5, signal: null });
    expect(performance.now() - t0).toBeGreaterThan(500);
    expect(alive(readPid(stubborn))).toBe(false);
  });

  it('costs one small bash that forks nothing while legiond lives', async () => {
    const { lease } = cell(60_000);
    const file = pidFile();
    const g = guarded(`echo $$ > ${file}; exec sleep 100`, lease, 500);
    expect(await eventually(() => hasPid(file))).toBe(true);
    await sleep(300);
    const guardPid = g.run.guardPid!;
    const status = readFileSync(`/proc/${guardPid}/status`, 'utf8');
    const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]);
    console.log(`guard VmRSS: ${rssKb} kB`);
    expect(rssKb).toBeGreaterThan(0);
    expect(rssKb).toBeLessThan(12_000);
    for (let i = 0; i < 5; i++) {
      const children = readFileSync(`/proc/${guardPid}/task/${guardPid}/children`, 'utf8').trim();
      expect(children).toBe(String(readPid(file)));
      await sleep(60);
    }
    await g.run.terminate();
  });
});
