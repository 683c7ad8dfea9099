import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { type HookResult, HookRunner } from '../../src/hooks/index.js';
import { alive, eventually, legionEvent, OTHER, readPid, recordingLogger, SELF } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-hooks-'));
const runners: HookRunner[] = [];
const strays: number[] = [];
afterEach(async () => {
  await Promise.all(runners.splice(0).map((r) => r.close()));
});
afterAll(() => {
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
  rmSync(dir, { recursive: true, force: true });
});

function runner(timeoutMs = 5000) {
  const logger = recordingLogger();
  const results: HookResult[] = [];
  const r = new HookRunner({
    legion: 'web',
    timeoutMs,
    killGraceMs: 200,
    logger,
    onResult: (x) => results.push(x),
  });
  runners.push(r);
  return { r, logger, results };
}

describe('HookRunner', () => {
  it('gives a hook its context in the environment and the member list on stdin', async () => {
    const { r } = runner();
    const out = join(dir, 'env.txt');
    const json = join(dir, 'stdin.json');
    r.enqueue(legionEvent('node-left', { member: OTHER, reason: 'timeout' }), [
      `env | grep ^LEGION_ | sort > ${out}; cat > ${json}`,
    ]);
    await r.drained();
    const env = Object.fromEntries(
      readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    expect(env).toEqual({
      LEGION_NAME: 'web',
      LEGION_EVENT: 'node-left',
      LEGION_EPOCH: '7',
      LEGION_NODE_UUID: SELF.uuid,
      LEGION_NODE_NAME: 'alpha',
      LEGION_VALOR: '18446744073709551615',
      LEGION_LORD_UUID: SELF.uuid,
      LEGION_LORD_NAME: 'alpha',
      LEGION_LORD_SCROLL: 'addr=10.0.0.1',
      LEGION_MEMBER_UUID: OTHER.uuid,
      LEGION_MEMBER_NAME: 'beta',
      LEGION_MEMBER_VALOR: '5',
      LEGION_MEMBER_SCROLL: 'addr=10.0.0.2',
      LEGION_REASON: 'timeout',
    });
    expect(JSON.parse(readFileSync(json, 'utf8'))).toEqual([
      {
        uuid: SELF.uuid,
        name: 'alpha',
        valor: '18446744073709551615',
        lord: true,
        arbiter: false,
        draining: false,
        self: true,
        scroll: 'addr=10.0.0.1',
        lastSeenMs: 0,
      },
      {
        uuid: OTHER.uuid,
        name: 'beta',
        valor: '5',
        lord: false,
        arbiter: false,
        draining: false,
        self: false,
        scroll: 'addr=10.0.0.2',
        // heard 100 ms before the event (stamps 900 and 1000 on the daemon's clock)
        lastSeenMs: 100,
      },
    ]);
  });

  it('leaves the lord variables empty when there is no lord, and runs argv commands without a shell', async () => {
    const { r } = runner();
    const out = join(dir, 'nolord.txt');
    r.enqueue(legionEvent('setup', { lord: null }), [
      ['/bin/sh', '-c', `echo "[$LEGION_LORD_UUID][$LEGION_LORD_NAME][$0]" > ${out}`, 'argv0'],
    ]);
    await r.drained();
    expect(readFileSync(out, 'utf8').trim()).toBe('[][][argv0]');
  });

  it('runs hooks one at a time in event order, each once', async () => {
    const { r, results } = runner();
    const log = join(dir, 'order.txt');
    r.enqueue(legionEvent('lord'), [
      `echo lord-start >> ${log}; sleep 0.2; echo lord-end >> ${log}`,
      `echo lord-2 >> ${log}`,
    ]);
    r.enqueue(legionEvent('node-joined', { member: OTHER }), [`echo joined >> ${log}`]);
    expect(r.idle).toBe(false);
    r.enqueue(legionEvent('unlord'), [`echo unlord >> ${log}`]);
    await r.drained();
    expect(r.idle).toBe(true);
    expect(readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'lord-start',
      'lord-end',
      'lord-2',
      'joined',
      'unlord',
    ]);
    expect(results.map((x) => [x.event, x.ok])).toEqual([
      ['lord', true],
      ['lord', true],
      ['node-joined', true],
      ['unlord', true],
    ]);
  });

  it('returns from enqueue before the hook has started', () => {
    const { r } = runner();
    const marker = join(dir, 'not-yet');
    r.enqueue(legionEvent('lord'), [`touch ${marker}`]);
    expect(existsSync(marker)).toBe(false);
    expect(r.idle).toBe(false);
  });

  it('on timeout kills the whole process group, reports it, and runs the next hook', async () => {
    const { r, results } = runner(300);
    const pidFile = join(dir, 'child.pid');
    const after = join(dir, 'after.txt');
    r.enqueue(legionEvent('lord'), [`sleep 100 & echo $! > ${pidFile}; echo $$ >> ${pidFile}.sh; wait`]);
    r.enqueue(legionEvent('unlord'), [`echo ran > ${after}`]);
    await eventually(() => existsSync(`${pidFile}.sh`));
    const child = readPid(pidFile);
    const shell = readPid(`${pidFile}.sh`);
    strays.push(child, shell);
    await r.drained();
    expect(results[0]).toMatchObject({ event: 'lord', ok: false, timedOut: true, exitCode: null });
    expect(await eventually(() => !alive(child) && !alive(shell))).toBe(true);
    expect(results[1]).toMatchObject({ event: 'unlord', ok: true });
    expect(readFileSync(after, 'utf8').trim()).toBe('ran');
  });

  it('SIGKILLs a group member that ignores SIGTERM', async () => {
    const { r, results } = runner(200);
    const pidFile = join(dir, 'stubborn.pid');
    r.enqueue(legionEvent('lord'), [
      `sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 0.05; done' & wait`,
    ]);
    await eventually(() => existsSync(pidFile));
    const pid = readPid(pidFile);
    strays.push(pid);
    await r.drained();
    expect(results[0]?.timedOut).toBe(true);
    expect(await eventually(() => !alive(pid))).toBe(true);
  });

  it('reports a failing hook and a hook that cannot start, and carries on', async () => {
    const { r, results, logger } = runner();
    r.enqueue(legionEvent('lord'), ['exit 3', ['/nonexistent/legiond-hook'], 'echo fine']);
    await r.drained();
    expect(results.map((x) => [x.ok, x.exitCode])).toEqual([
      [false, 3],
      [false, null],
      [true, 0],
    ]);
    expect(results[1]?.spawnError).toBe('ENOENT');
    expect(logger.entries.filter((e) => e.msg === 'hook failed')).toHaveLength(2);
  });

  it('sends stdout and stderr lines to the logger, cutting long lines', async () => {
    const { r, logger } = runner();
    r.enqueue(legionEvent('join'), [`echo hello; echo oops >&2; printf '%s\\n' ${'x'.repeat(5000)}`]);
    await r.drained();
    const lines = logger.entries.filter((e) => e.obj.stream !== undefined).map((e) => [e.obj.stream, e.msg]);
    expect(lines).toContainEqual(['stdout', 'hello']);
    expect(lines).toContainEqual(['stderr', 'oops']);
    expect(lines).toContainEqual(['stdout', `${'x'.repeat(4096)}… [truncated]`]);
  });

  it('bounds the number of output lines per run', async () => {
    const logger = recordingLogger();
    const r = new HookRunner({ legion: 'web', timeoutMs: 5000, logger, maxLines: 3 });
    runners.push(r);
    r.enqueue(legionEvent('join'), ['for i in 1 2 3 4 5 6 7; do echo line $i; done; echo err >&2']);
    await r.drained();
    expect(logger.entries.filter((e) => e.obj.stream !== undefined)).toHaveLength(3);
    expect(logger.entries.find((e) => e.msg === 'command output truncated')?.obj.dropped).toBe(5);
  });

  it('drained() waits for hooks queued while draining; close() drops the queue and kills the current hook', async () => {
    const { r, results, logger } = runner();
    const never = join(dir, 'never.txt');
    r.enqueue(legionEvent('lord'), ['sleep 100']);
    r.enqueue(legionEvent('unlord'), [`touch ${never}`]);
    expect(await eventually(() => logger.entries.some((e) => e.msg === 'hook started'))).toBe(true);
    await r.close();
    expect(r.idle).toBe(true);
    expect(results[0]).toMatchObject({ event: 'lord', ok: false, signal: 'SIGTERM' });
    expect(results).toHaveLength(1);
    expect(existsSync(never)).toBe(false);
    r.enqueue(legionEvent('death'), [`touch ${never}`]);
    await r.drained();
    expect(existsSync(never)).toBe(false);
  });
});
