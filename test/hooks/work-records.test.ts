import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { signalGroup } from '../../src/hooks/group.js';
import {
  DaemonSupervisor,
  LeaseCell,
  procStartTime,
  readWorkRecords,
  stopLeftovers,
  WorkRecords,
  workRecordsPath,
} from '../../src/hooks/index.js';
import { alive, eventually, recordingLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-records-'));
const groups: number[] = [];
afterEach(() => {
  for (const g of groups.splice(0)) signalGroup(g, 'SIGKILL');
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a detached group whose leader has a child, as a guard and its workload */
async function group(): Promise<{ leader: ChildProcess; pid: number; member: number }> {
  const file = join(dir, `member-${groups.length}-${Date.now()}`);
  const leader = spawn('/bin/sh', ['-c', `sleep 100 & echo $! > ${file}; wait`], {
    detached: true,
    stdio: 'ignore',
  });
  const pid = leader.pid!;
  groups.push(pid);
  expect(await eventually(() => existsSync(file) && readFileSync(file, 'utf8').trim() !== '')).toBe(true);
  return { leader, pid, member: Number(readFileSync(file, 'utf8').trim()) };
}

describe('work records', () => {
  it('records a guarded process while it runs, in <state_dir>/<legion>.work.json', async () => {
    const lease = new LeaseCell(() => performance.now());
    lease.set({ epoch: 1n, fenceAtMs: performance.now() + 3_600_000, mayStart: true });
    const records = new WorkRecords(dir, 'web');
    const s = new DaemonSupervisor({
      legion: 'web',
      entries: [{ command: 'exec sleep 100', graceMs: 500, restartBackoffMs: 10 }],
      lease,
      fenceGraceMs: 500,
      records,
      context: () => ({ env: {}, stdin: '' }),
      logger: recordingLogger(),
    });
    const file = workRecordsPath(dir, 'web');
    s.start();
    const pid = s.status()[0]?.pid;
    expect(pid).toBeTypeOf('number');
    groups.push(pid!);
    expect(readWorkRecords(file)).toEqual([
      { pid, startTime: procStartTime(pid!), command: 'exec sleep 100' },
    ]);
    await s.stop();
    expect(readWorkRecords(file)).toEqual([]);
  });

  it('shares one instance per file', () => {
    expect(WorkRecords.shared(dir, 'a')).toBe(WorkRecords.shared(dir, 'a'));
    expect(WorkRecords.shared(dir, 'a')).not.toBe(WorkRecords.shared(dir, 'b'));
  });

  it('stopLeftovers kills a recorded live group and ignores a record whose start time differs', async () => {
    const ours = await group();
    const reused = await group();
    const file = workRecordsPath(dir, 'left');
    const records = [
      { pid: ours.pid, startTime: procStartTime(ours.pid), command: 'ours' },
      // the same pid number, started at another time: someone else's process now
      { pid: reused.pid, startTime: String(Number(procStartTime(reused.pid)) - 1), command: 'reused' },
      { pid: 2 ** 22 + 17, startTime: '1', command: 'gone' },
    ];
    writeFileSync(file, JSON.stringify({ records }));
    const logger = recordingLogger();
    expect(await stopLeftovers(dir, 'left', logger, 1000)).toBe(1);
    expect(alive(ours.pid) || alive(ours.member)).toBe(false);
    expect(alive(reused.pid) && alive(reused.member)).toBe(true);
    expect(existsSync(file)).toBe(false);
    expect(
      logger.entries.filter((e) => e.msg?.includes('left by a previous run')).map((e) => e.obj.pid),
    ).toEqual([ours.pid]);
  });

  it('stopLeftovers finds a group whose guard alone was killed', async () => {
    const ours = await group();
    const startTime = procStartTime(ours.pid);
    const file = workRecordsPath(dir, 'orphan');
    writeFileSync(file, JSON.stringify({ records: [{ pid: ours.pid, startTime, command: 'x' }] }));
    process.kill(ours.pid, 'SIGKILL');
    expect(await eventually(() => procStartTime(ours.pid) === null)).toBe(true);
    expect(alive(ours.member)).toBe(true);
    expect(await stopLeftovers(dir, 'orphan', recordingLogger(), 1000)).toBe(1);
    expect(await eventually(() => !alive(ours.member))).toBe(true);
  });

  it('stopLeftovers survives a missing or corrupt file', async () => {
    expect(await stopLeftovers(dir, 'none', recordingLogger())).toBe(0);
    writeFileSync(workRecordsPath(dir, 'bad'), '{not json');
    const logger = recordingLogger();
    expect(await stopLeftovers(dir, 'bad', logger)).toBe(0);
    expect(logger.entries[0]?.obj.code).toBe('ERR_WORK_RECORDS_INVALID');
  });
});
