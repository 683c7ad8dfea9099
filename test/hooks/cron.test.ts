import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CronRunner, type HookContext, LeaseCell, type WorkLease } from '../../src/hooks/index.js';
import { alive, eventually, recordingLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-cron-'));
const crons: CronRunner[] = [];
afterEach(async () => {
  await Promise.all(crons.splice(0).map((c) => c.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context = (): HookContext => ({
  env: { LEGION_NAME: 'web', LEGION_EVENT: 'cron', LEGION_EPOCH: '9' },
  stdin: '[]\n',
});

/** a lease `fenceInMs` from its fence (null: no lease) */
function lease(fenceInMs: number | null, mayStart = true, epoch = 42n): WorkLease | null {
  return fenceInMs === null ? null : { epoch, fenceAtMs: performance.now() + fenceInMs, mayStart };
}

function cron(
  command: string,
  initial: WorkLease | null = lease(3_600_000),
  mode: '5-part' | '6-part' = '5-part',
  schedule = '0 0 1 1 *',
) {
  const logger = recordingLogger();
  const runs: boolean[] = [];
  const cell = new LeaseCell(() => performance.now());
  cell.set(initial);
  const c = new CronRunner({
    legion: 'web',
    entries: [{ schedule, command, timeoutMs: 20_000 }],
    lease: cell,
    fenceGraceMs: 100,
    context,
    logger,
    mode,
    killGraceMs: 100,
    onRun: (r) => runs.push(r.ok),
  });
  crons.push(c);
  return { c, logger, runs, cell };
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);

describe('CronRunner', () => {
  it('runs only while the lease allows new work, with the lease epoch in LEGION_EPOCH', async () => {
    const out = join(dir, 'lord-only.txt');
    const { c, runs, logger, cell } = cron(`echo "$LEGION_EVENT $LEGION_EPOCH" >> ${out}`, null);
    const skipped = () => logger.entries.filter((e) => e.level === 'debug').map((e) => e.obj.why);
    c.fire(0);
    // expired, then closer to the fence than the start margin (the fence grace, 100 ms)
    cell.set(lease(-1));
    c.fire(0);
    cell.set(lease(50));
    c.fire(0);
    cell.set(lease(3_600_000, false));
    c.fire(0);
    expect(skipped()).toEqual(['not lord', 'lease not fresh', 'lease not fresh', 'lease allows no new work']);
    await new Promise((r) => setTimeout(r, 100));
    expect(runs).toEqual([]);
    expect(lines(out)).toEqual([]);
    cell.set(lease(3_600_000, true, 42n));
    c.fire(0);
    expect(await eventually(() => runs.length === 1)).toBe(true);
    // the context says 9; the run belongs to the lordship of the lease
    expect(lines(out)).toEqual(['cron 42']);
    expect(runs).toEqual([true]);
    cell.set(null);
    c.fire(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(runs).toEqual([true]);
  });

  it('a run gets the member list on stdin and is fenced by its guard when the lease goes', async () => {
    const out = join(dir, 'stdin.txt');
    const { c, runs, cell } = cron(`cat > ${out}; exec sleep 100`);
    c.fire(0);
    // cat creates the file before it has read its stdin
    expect(await eventually(() => lines(out)[0] === '[]')).toBe(true);
    expect(c.busy).toBe(1);
    cell.set(null);
    expect(await eventually(() => runs.length === 1)).toBe(true);
    expect(runs).toEqual([false]);
    expect(c.busy).toBe(0);
  });

  it('does not start a run while the previous one is still going', async () => {
    const out = join(dir, 'overlap.txt');
    const gate = join(dir, 'gate');
    const { c, runs, logger } = cron(`echo run >> ${out}; while [ ! -e ${gate} ]; do sleep 0.02; done`);
    c.fire(0);
    expect(await eventually(() => lines(out).length === 1)).toBe(true);
    c.fire(0);
    c.fire(0);
    expect(logger.entries.filter((e) => e.msg?.includes('still going'))).toHaveLength(2);
    expect(c.busy).toBe(1);
    await import('node:fs').then((fs) => fs.writeFileSync(gate, ''));
    expect(await eventually(() => runs.length === 1)).toBe(true);
    c.fire(0);
    expect(await eventually(() => runs.length === 2)).toBe(true);
    expect(lines(out)).toEqual(['run', 'run']);
  });

  it('stopRuns() kills a run still going (its process group) and keeps the schedule', async () => {
    const out = join(dir, 'stopruns.txt');
    const { c, runs } = cron(
      `sleep 100 & echo $! >> ${out}; wait`,
      lease(3_600_000),
      '6-part',
      '0 0 0 1 1 *',
    );
    c.start();
    c.fire(0);
    expect(await eventually(() => lines(out).length === 1)).toBe(true);
    const child = Number(lines(out)[0]);
    await c.stopRuns();
    expect(runs).toEqual([false]);
    expect(await eventually(() => !alive(child))).toBe(true);
    c.fire(0);
    expect(await eventually(() => lines(out).length === 2)).toBe(true);
  });

  it('logs a failing run with its exit status', async () => {
    const { c, runs, logger } = cron('exit 4');
    c.fire(0);
    // a loaded machine may take seconds to start the guard and bash
    expect(await eventually(() => runs.length === 1, 1500)).toBe(true);
    expect(runs).toEqual([false]);
    expect(logger.entries.find((e) => e.msg === 'cron run failed')?.obj.exitCode).toBe(4);
  });

  it('fires on its croner schedule (a seconds pattern in tests) and stops', async () => {
    const out = join(dir, 'scheduled.txt');
    const { c } = cron(`echo tick >> ${out}`, lease(3_600_000), '6-part', '* * * * * *');
    c.start();
    expect(await eventually(() => lines(out).length >= 1, 300)).toBe(true);
    await c.stop();
    const n = lines(out).length;
    await new Promise((r) => setTimeout(r, 1100));
    expect(lines(out).length).toBe(n);
  });
});
