import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { DaemonSupervisor, type DaemonSupervisorInit, LeaseCell } from '../../src/hooks/index.js';
import { alive, eventually, recordingLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-daemons-'));
const sups: DaemonSupervisor[] = [];
afterEach(async () => {
  await Promise.all(sups.splice(0).map((s) => s.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const context = () => ({ env: { LEGION_NAME: 'web' }, stdin: '' });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** a lease far from its fence unless a test changes it */
function leaseCell(mayStart = true): LeaseCell {
  const cell = new LeaseCell(() => performance.now());
  cell.set({ epoch: 12n, fenceAtMs: performance.now() + 3_600_000, mayStart });
  return cell;
}

type Init = Omit<DaemonSupervisorInit, 'lease' | 'fenceGraceMs'> & Partial<DaemonSupervisorInit>;
function supervisor(init: Init): DaemonSupervisor {
  const s = new DaemonSupervisor({ lease: leaseCell(), fenceGraceMs: 500, ...init });
  sups.push(s);
  return s;
}
const pidsIn = (file: string) => lines(file).map(Number);
const lines = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').trim().split('\n') : []);

describe('DaemonSupervisor', () => {
  it('restarts a daemon that exits, with a doubling backoff', async () => {
    const out = join(dir, 'starts.txt');
    const logger = recordingLogger();
    const s = supervisor({
      legion: 'web',
      entries: [
        {
          command: `echo "$LEGION_NAME $LEGION_EVENT $LEGION_EPOCH" >> ${out}; exit 1`,
          graceMs: 100,
          restartBackoffMs: 20,
        },
      ],
      context,
      logger,
    });
    const delays = () =>
      logger.entries.filter((e) => e.msg === 'daemon exited; restarting').map((e) => e.obj.restartInMs);
    s.start();
    expect(await eventually(() => delays().length >= 3)).toBe(true);
    expect(lines(out)[0]).toBe('web daemon 12');
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
    const s = supervisor({
      legion: 'web',
      entries: [{ command: `echo x >> ${out}; exit 1`, graceMs: 100, restartBackoffMs: 10 }],
      context,
      logger,
      clock,
      resetAfterMs: 1000,
      maxBackoffMs: 40,
    });
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
    const s = supervisor({
      legion: 'web',
      entries: [{ command: `sleep 100 & echo $! > ${pidFile}; wait`, graceMs: 200, restartBackoffMs: 10 }],
      context,
      logger: recordingLogger(),
    });
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

  it('stop() then start() at once never leaves two processes, and a final stop() leaves none', async () => {
    const pids = join(dir, 'race.pids');
    // takes 500 ms to exit after SIGTERM
    const s = supervisor({
      legion: 'web',
      entries: [
        {
          command: `echo $$ >> ${pids}; trap 'sleep 0.5; exit 0' TERM; while :; do sleep 0.05; done`,
          graceMs: 3000,
          restartBackoffMs: 10,
        },
      ],
      context,
      logger: recordingLogger(),
    });
    let most = 0;
    const poll = setInterval(() => {
      most = Math.max(most, pidsIn(pids).filter(alive).length);
    }, 5);
    try {
      s.start();
      expect(await eventually(() => pidsIn(pids).length === 1 && alive(pidsIn(pids)[0]!))).toBe(true);
      const first = pidsIn(pids)[0]!;
      const stopping = s.stop();
      s.start();
      await sleep(200);
      // the old one is still in its TERM trap; the new start waits for it
      expect(alive(first)).toBe(true);
      expect(pidsIn(pids)).toHaveLength(1);
      await stopping;
      expect(alive(first)).toBe(false);
      expect(await eventually(() => pidsIn(pids).length === 2 && alive(pidsIn(pids)[1]!))).toBe(true);
      expect(s.status()[0]?.pid).toBeTypeOf('number');
      await sleep(100);
      await s.stop();
      // stop() resolved: nothing it owned is left
      expect(pidsIn(pids).filter(alive)).toEqual([]);
      expect(s.status()[0]?.pid).toBeNull();
    } finally {
      clearInterval(poll);
    }
    expect(most).toBe(1);
  });

  it('starts only while the lease allows new work, and waits for it instead of spawning', async () => {
    const pids = join(dir, 'gated.pids');
    const lease = leaseCell(false);
    const logger = recordingLogger();
    const s = supervisor({
      legion: 'web',
      entries: [{ command: `echo $$ >> ${pids}; exec sleep 100`, graceMs: 1000, restartBackoffMs: 10 }],
      lease,
      context,
      logger,
    });
    s.start();
    await sleep(150);
    expect(pidsIn(pids)).toEqual([]);
    expect(logger.entries.find((e) => e.msg === 'daemon start waits for the lease')?.obj.why).toBe(
      'lease allows no new work',
    );
    // a fence closer than the start margin (the fence grace, 500 ms) is refused too
    lease.set({ epoch: 13n, fenceAtMs: performance.now() + 200, mayStart: true });
    await sleep(100);
    expect(pidsIn(pids)).toEqual([]);
    lease.set({ epoch: 13n, fenceAtMs: performance.now() + 3_600_000, mayStart: true });
    expect(await eventually(() => pidsIn(pids).length === 1 && alive(pidsIn(pids)[0]!))).toBe(true);
  });

  it('the guard fences a daemon when the lease goes; its restart waits for a lease again', async () => {
    const pids = join(dir, 'fenced.pids');
    const lease = leaseCell();
    const logger = recordingLogger();
    const s = supervisor({
      legion: 'web',
      entries: [{ command: `echo $$ >> ${pids}; exec sleep 100`, graceMs: 1000, restartBackoffMs: 10 }],
      lease,
      context,
      logger,
    });
    s.start();
    expect(await eventually(() => pidsIn(pids).length === 1 && alive(pidsIn(pids)[0]!))).toBe(true);
    lease.set(null);
    expect(await eventually(() => !alive(pidsIn(pids)[0]!))).toBe(true);
    expect(await eventually(() => logger.entries.some((e) => e.msg === 'daemon exited; restarting'))).toBe(
      true,
    );
    // the restart fell due (10 ms) while there was no lease: it waits
    await sleep(200);
    expect(pidsIn(pids)).toHaveLength(1);
    expect(logger.entries.find((e) => e.msg === 'daemon start waits for the lease')?.obj.why).toBe(
      'not lord',
    );
    lease.set({ epoch: 14n, fenceAtMs: performance.now() + 3_600_000, mayStart: true });
    expect(await eventually(() => pidsIn(pids).length === 2 && alive(pidsIn(pids)[1]!))).toBe(true);
    expect(s.status()[0]?.restarts).toBe(1);
  });
});
