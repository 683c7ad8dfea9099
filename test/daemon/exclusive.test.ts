/**
 * Exclusive resources: a second legiond that would share a unicast UDP port, a live control
 * socket or a state directory exits 2 naming it, before any hook of its own has run; a stale
 * lock (dead pid, or a pid that is no longer a legiond) is taken over.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireStateLock, isLegiondProcess, LOCK_FILE } from '../../src/daemon/state-lock.js';
import { isLegiondError } from '../../src/errors.js';
import { isAlive, Lab, legionctl, until } from '../helpers/procs.js';

let lab: Lab;
const extra: ChildProcess[] = [];
afterEach(async () => {
  for (const c of extra.splice(0)) c.kill('SIGKILL');
  await lab?.cleanup();
});

/** flags for one node; `setup` appends the node's name to lab/setup-<name> */
function args(name: string, o: { port: number; control?: string; stateDir?: string }): string[] {
  return [
    '--legion',
    'web',
    '--bind',
    `127.0.0.1:${o.port}`,
    '--peer',
    '127.0.0.1:47699',
    '--node-name',
    name,
    '--valor',
    '10',
    '--secret-file',
    lab.path('secret'),
    '--control',
    o.control ?? lab.path(`${name}.sock`),
    ...(o.stateDir ? ['--state-dir', o.stateDir] : []),
    '--on',
    `setup=echo ${name} >> ${lab.path(`setup-${name}`)}`,
  ];
}

async function exitOf(p: ReturnType<Lab['legiond']>, timeoutMs = 10_000) {
  const r = await Promise.race([
    p.exited,
    new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`${p.name} did not exit`)), timeoutMs)),
  ]);
  return { ...r, stderr: p.stderr.join('\n') };
}

function deadPid(): number {
  const r = spawnSync('true');
  if (!r.pid || isAlive(r.pid)) throw new Error('no dead pid to hand');
  return r.pid;
}

describe('exclusive resources of a running legiond', () => {
  it('a second legiond on the same unicast port exits 2 naming the address, and runs no hook', async () => {
    lab = new Lab();
    lab.secret();
    const a = lab.legiond('a', args('a', { port: 47600 }));
    await a.ready();
    const b = lab.legiond('b', args('b', { port: 47600 }));
    const r = await exitOf(b);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/127\.0\.0\.1:47600/);
    expect(r.stderr).toContain('ERR_ADDRESS_IN_USE');
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(existsSync(lab.path('setup-b'))).toBe(false);
    // b gave back its control socket, and a is untouched
    expect(existsSync(lab.path('b.sock'))).toBe(false);
    expect(a.child.exitCode).toBeNull();
    expect(legionctl(['--control', lab.path('a.sock'), 'status']).code).toBe(0);
    await until(() => existsSync(lab.path('setup-a')), 'a setup hook');
  });

  it('a second legiond on a live control socket exits 2 naming the socket; its setup hook never runs', async () => {
    lab = new Lab();
    lab.secret();
    const a = lab.legiond('a', args('a', { port: 47610 }));
    await a.ready();
    const b = lab.legiond('b', args('b', { port: 47611, control: lab.path('a.sock') }));
    const r = await exitOf(b);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(lab.path('a.sock'));
    expect(r.stderr).toContain('ERR_CONTROL_IN_USE');
    // give a hook that was (wrongly) started the time to write
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(lab.path('setup-b'))).toBe(false);
    // b's UDP port was never taken (or was given back): a third node can bind it
    const c = lab.legiond('c', args('c', { port: 47611 }));
    await c.ready();
    expect(legionctl(['--control', lab.path('a.sock'), 'status']).code).toBe(0);
  });

  it('a stale control socket (its daemon was killed) is replaced', async () => {
    lab = new Lab();
    lab.secret();
    const a = lab.legiond('a', args('a', { port: 47615 }));
    await a.ready();
    a.kill('SIGKILL');
    await a.exited;
    expect(existsSync(lab.path('a.sock'))).toBe(true);
    const b = lab.legiond('b', args('b', { port: 47616, control: lab.path('a.sock') }));
    await b.ready();
    expect(legionctl(['--control', lab.path('a.sock'), 'status']).code).toBe(0);
  });

  it('a second legiond with the same state_dir exits 2 naming it; its setup hook never runs', async () => {
    lab = new Lab();
    lab.secret();
    const state = lab.path('state');
    const a = lab.legiond('a', args('a', { port: 47620, stateDir: state }));
    await a.ready();
    expect(readFileSync(`${state}/${LOCK_FILE}`, 'utf8').trim()).toBe(String(a.child.pid));
    const b = lab.legiond('b', args('b', { port: 47621, stateDir: state }));
    const r = await exitOf(b);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(state);
    expect(r.stderr).toContain('ERR_STATE_LOCKED');
    await new Promise((res) => setTimeout(res, 300));
    expect(existsSync(lab.path('setup-b'))).toBe(false);
    // the lock is still a's, and a clean stop removes it
    expect(readFileSync(`${state}/${LOCK_FILE}`, 'utf8').trim()).toBe(String(a.child.pid));
    a.kill('SIGTERM');
    expect((await exitOf(a)).code).toBe(0);
    expect(existsSync(`${state}/${LOCK_FILE}`)).toBe(false);
  });

  it('a stale lock is taken over: a dead pid, a killed legiond, a pid that is not a legiond', async () => {
    lab = new Lab();
    lab.secret();
    const state = lab.path('state');
    mkdirSync(state, { mode: 0o700 });
    const lock = `${state}/${LOCK_FILE}`;

    writeFileSync(lock, `${deadPid()}\n`);
    const a = lab.legiond('a', args('a', { port: 47630, stateDir: state }));
    await a.ready();
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(a.child.pid));

    a.kill('SIGKILL');
    await a.exited;
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(a.child.pid));
    const b = lab.legiond('b', args('b', { port: 47631, stateDir: state }));
    await b.ready();
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(b.child.pid));
    b.kill('SIGKILL');
    await b.exited;

    // a live process, but not a legiond: the pid was reused
    const sleeper = spawn('sleep', ['30'], { stdio: 'ignore' });
    extra.push(sleeper);
    writeFileSync(lock, `${sleeper.pid}\n`);
    const c = lab.legiond('c', args('c', { port: 47632, stateDir: state }));
    await c.ready();
    expect(readFileSync(lock, 'utf8').trim()).toBe(String(c.child.pid));
    expect(isAlive(sleeper.pid!)).toBe(true);
  });
});

describe('acquireStateLock', () => {
  it('refuses a held lock naming the directory, takes it once released, and release keeps a successor', async () => {
    lab = new Lab();
    const dir = lab.path('s');
    const live = async () => true;
    const first = await acquireStateLock(dir, { pid: 1111, isLegiond: live });
    const err = await acquireStateLock(dir, { pid: 2222, isLegiond: live }).catch((e) => e);
    expect(isLegiondError(err, 'ERR_STATE_LOCKED')).toBe(true);
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain('1111');
    await first.release();
    const second = await acquireStateLock(dir, { pid: 2222, isLegiond: live });
    // a release of a lock that is no longer ours leaves the new holder's file alone
    await first.release();
    expect(readFileSync(second.file, 'utf8')).toBe('2222\n');
    await second.release();
    expect(existsSync(second.file)).toBe(false);
  });

  it('takes over a lock whose holder is gone, or that holds our own pid or garbage', async () => {
    lab = new Lab();
    const dir = lab.path('s');
    mkdirSync(dir);
    const file = `${dir}/${LOCK_FILE}`;
    for (const content of ['3333\n', '4444\n', 'not a pid\n', '']) {
      writeFileSync(file, content);
      const l = await acquireStateLock(dir, { pid: 4444, isLegiond: async (p) => p !== 3333 });
      expect(readFileSync(file, 'utf8')).toBe('4444\n');
      await l.release();
    }
  });

  it('refuses a state_dir that is a file, naming it', async () => {
    lab = new Lab();
    const f = lab.path('file');
    writeFileSync(f, '');
    const err = await acquireStateLock(f).catch((e) => e);
    expect(isLegiondError(err, 'ERR_STATE_DIR')).toBe(true);
    expect((err as Error).message).toContain(f);
  });

  it('tells a running legiond from a dead pid and from another program', async () => {
    lab = new Lab();
    lab.secret();
    expect(await isLegiondProcess(deadPid())).toBe(false);
    expect(await isLegiondProcess(process.pid)).toBe(false);
    const a = lab.legiond('a', args('a', { port: 47640 }));
    await a.ready();
    expect(await isLegiondProcess(a.child.pid!)).toBe(true);
  });
});
