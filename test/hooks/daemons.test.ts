import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DaemonSupervisor } from '../../src/hooks/index.js';
import { alive, eventually, recordingLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-daemons-'));
const sups: DaemonSupervisor[] = [];
afterEach(async () => {
  await Promise.all(sups.splice(0).map((s) => s.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context = () => ({ env: { LEGION_NAME: 'web' }, stdin: '' });
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);

describe('DaemonSupervisor', () => {
  it('restarts a daemon that exits, with a doubling backoff', async () => {
    const out = join(dir, 'starts.txt');
    const logger = recordingLogger();
    const s = new DaemonSupervisor({
      legion: 'web',
      entries: [
        {
          command: `echo "$LEGION_NAME $LEGION_EVENT" >> ${out}; exit 1`,
          graceMs: 100,
          restartBackoffMs: 20,
        },
      ],
      context,
      logger,
    });
    sups.push(s);
    const delays = () =>
      logger.entries.filter((e) => e.msg === 'daemon exited; restarting').map((e) => e.obj.restartInMs);
    s.start();
    expect(await eventually(() => delays().length >= 3)).toBe(true);
    expect(lines(out)[0]).toBe('web daemon');
    expect(delays().slice(0, 3)).toEqual([20, 40, 80]);
    expect(s.status()[0]?.restarts).toBeGreaterThanOrEqual(3);
  });

  it('resets the backoff after a daemon ran long enough', async () => {
    let long = false;
    let t = 0;
    // once `long` is set, every run appears to have lasted 5 s, past resetAfterMs
    const clock = {
      now: () => {
        if (long) t += 5000;
        return t;
      },
    };
    const logger = recordingLogger();
    const out = join(dir, 'reset.txt');
    const s = new DaemonSupervisor({
      legion: 'web',
      entries: [{ command: `echo x >> ${out}; exit 1`, graceMs: 100, restartBackoffMs: 10 }],
      context,
      logger,
      clock,
      resetAfterMs: 1000,
      maxBackoffMs: 40,
    });
    sups.push(s);
    const delays = () =>
      logger.entries.filter((e) => e.msg === 'daemon exited; restarting').map((e) => e.obj.restartInMs);
    s.start();
    expect(await eventually(() => delays().length >= 4)).toBe(true);
    expect(delays().slice(0, 4)).toEqual([10, 20, 40, 40]);
    long = true;
    const seen = delays().length;
    expect(await eventually(() => delays().length >= seen + 3)).toBe(true);
    // the first exit may belong to a run started before the switch; the ones after it all reset
    expect(delays().slice(seen + 1, seen + 3)).toEqual([10, 10]);
  });

  it('stop() kills the whole process group and does not restart', async () => {
    const pidFile = join(dir, 'child.pid');
    const s = new DaemonSupervisor({
      legion: 'web',
      entries: [{ command: `sleep 100 & echo $! > ${pidFile}; wait`, graceMs: 200, restartBackoffMs: 10 }],
      context,
      logger: recordingLogger(),
    });
    sups.push(s);
    s.start();
    expect(await eventually(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '')).toBe(
      true,
    );
    const child = Number(readFileSync(pidFile, 'utf8').trim());
    const leader = s.status()[0]?.pid;
    expect(leader).toBeTypeOf('number');
    await s.stop();
    expect(s.running).toBe(false);
    expect(await eventually(() => !alive(child) && !alive(leader!))).toBe(true);
    expect(s.status()[0]).toMatchObject({ pid: null, restarts: 0 });
  });
});
