import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { CronRunner, type HookContext } from '../../src/hooks/index.js';
import { eventually, recordingLogger } from './helpers.js';

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

function cron(
  command: string,
  isLord: () => boolean,
  mode: '5-part' | '6-part' = '5-part',
  schedule = '0 0 1 1 *',
) {
  const logger = recordingLogger();
  const runs: boolean[] = [];
  const c = new CronRunner({
    legion: 'web',
    entries: [{ schedule, command, timeoutMs: 2000 }],
    isLord,
    context,
    logger,
    mode,
    killGraceMs: 100,
    onRun: (r) => runs.push(r.ok),
  });
  crons.push(c);
  return { c, logger, runs };
}

const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);

describe('CronRunner', () => {
  it('runs only while lord, with the hook environment', async () => {
    let lord = false;
    const out = join(dir, 'lord-only.txt');
    const { c, runs } = cron(`echo "$LEGION_EVENT $LEGION_EPOCH" >> ${out}`, () => lord);
    c.fire(0);
    lord = true;
    c.fire(0);
    expect(await eventually(() => runs.length === 1)).toBe(true);
    lord = false;
    c.fire(0);
    await new Promise((r) => setTimeout(r, 50));
    expect(lines(out)).toEqual(['cron 9']);
    expect(runs).toEqual([true]);
  });

  it('does not start a run while the previous one is still going', async () => {
    const out = join(dir, 'overlap.txt');
    const gate = join(dir, 'gate');
    const { c, runs, logger } = cron(
      `echo run >> ${out}; while [ ! -e ${gate} ]; do sleep 0.02; done`,
      () => true,
    );
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

  it('logs a failing run with its exit status', async () => {
    const { c, runs, logger } = cron('exit 4', () => true);
    c.fire(0);
    expect(await eventually(() => runs.length === 1)).toBe(true);
    expect(runs).toEqual([false]);
    expect(logger.entries.find((e) => e.msg === 'cron run failed')?.obj.exitCode).toBe(4);
  });

  it('fires on its croner schedule (a seconds pattern in tests) and stops', async () => {
    const out = join(dir, 'scheduled.txt');
    const { c } = cron(`echo tick >> ${out}`, () => true, '6-part', '* * * * * *');
    c.start();
    expect(await eventually(() => lines(out).length >= 1, 300)).toBe(true);
    await c.stop();
    const n = lines(out).length;
    await new Promise((r) => setTimeout(r, 1100));
    expect(lines(out).length).toBe(n);
  });
});
