import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ControlHandler } from '../../src/control/handler.js';
import { MAX_LINE_BYTES } from '../../src/control/protocol.js';
import { type ControlServer, startControlServer } from '../../src/control/server.js';
import { isLegiondError, LegiondError } from '../../src/errors.js';
import { FakeHandler } from './fake-handler.js';
import { RawClient } from './raw-client.js';

const logger = pino({ level: 'silent' });
let dir: string;
let sockPath: string;
const cleanup: Array<() => unknown> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legiond-ctl-'));
  sockPath = join(dir, 'legiond.sock');
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

async function start(handler: ControlHandler = new FakeHandler(), path = sockPath): Promise<ControlServer> {
  const s = await startControlServer({ path, handler, logger });
  cleanup.push(() => s.close());
  return s;
}
async function client(path = sockPath): Promise<RawClient> {
  const c = await RawClient.connect(path);
  cleanup.push(() => c.close());
  return c;
}

describe('control server replies', () => {
  it('answers requests with ok results, in the documented envelope', async () => {
    await start();
    const c = await client();
    const r = await c.request(7, 'valor.get', { legion: 'web' });
    expect(r).toEqual({ v: 1, id: 7, ok: true, result: { legion: 'web', baseValor: '100', valor: '100' } });
    const s = await c.request(8, 'valor.set', { legion: 'web', valor: '5' });
    expect(s).toMatchObject({ id: 8, ok: true, result: { baseValor: '5' } });
  });

  it('replies with stable error codes and keeps the connection and other clients working', async () => {
    await start();
    const bystander = await client();
    const c = await client();
    const cases: Array<[string, string, unknown]> = [
      ['{not json\n', 'ERR_BAD_REQUEST', null],
      ['[1,2]\n', 'ERR_BAD_REQUEST', null],
      [`${JSON.stringify({ v: 1, id: 1 })}\n`, 'ERR_BAD_REQUEST', 1],
      [`${JSON.stringify({ v: 1, id: 'x', cmd: 'status' })}\n`, 'ERR_BAD_REQUEST', null],
      [`${JSON.stringify({ id: 2, cmd: 'status' })}\n`, 'ERR_BAD_REQUEST', 2],
      [`${JSON.stringify({ v: 2, id: 3, cmd: 'status' })}\n`, 'ERR_VERSION', 3],
      [`${JSON.stringify({ v: 1, id: 4, cmd: 'reboot' })}\n`, 'ERR_UNKNOWN_COMMAND', 4],
      [
        `${JSON.stringify({ v: 1, id: 5, cmd: 'valor.set', args: { legion: 'web', valor: 5 } })}\n`,
        'ERR_BAD_REQUEST',
        5,
      ],
      [
        `${JSON.stringify({ v: 1, id: 6, cmd: 'valor.get', args: { legion: 'nope' } })}\n`,
        'ERR_UNKNOWN_LEGION',
        6,
      ],
      [
        `${JSON.stringify({ v: 1, id: 9, cmd: 'valor.set', args: { legion: 'web', valor: '-1' } })}\n`,
        'ERR_INVALID_VALUE',
        9,
      ],
    ];
    for (const [line, code, id] of cases) {
      c.write(line);
      const r = await c.next();
      expect(r, line).toMatchObject({ v: 1, ok: false, id, error: { code } });
      expect(typeof (r.error as { message: unknown }).message).toBe('string');
    }
    expect(await c.request(10, 'status')).toMatchObject({ id: 10, ok: true });
    expect(await bystander.request(1, 'scroll.get', { legion: 'web' })).toMatchObject({
      ok: true,
      result: { scroll: 'addr=10.0.0.5:6379' },
    });
  });

  it('rejects an oversized line with ERR_BAD_REQUEST, then serves the next line on the same connection', async () => {
    await start();
    const bystander = await client();
    const c = await client();
    const huge = JSON.stringify({
      v: 1,
      id: 1,
      cmd: 'scroll.set',
      args: { legion: 'web', scroll: 'a'.repeat(MAX_LINE_BYTES) },
    });
    // sent in pieces, as a real socket would deliver it
    for (let i = 0; i < huge.length; i += 10_000) c.write(huge.slice(i, i + 10_000));
    c.write('\n');
    expect(await c.next()).toMatchObject({ ok: false, id: null, error: { code: 'ERR_BAD_REQUEST' } });
    expect(await c.request(2, 'scroll.get', { legion: 'web' })).toMatchObject({
      id: 2,
      ok: true,
      result: { scroll: 'addr=10.0.0.5:6379' },
    });
    expect(await bystander.request(3, 'status')).toMatchObject({ id: 3, ok: true });
  });

  it('maps a LegiondError from the handler to its code and anything else to ERR_INTERNAL', async () => {
    const handler: ControlHandler = {
      async request(cmd) {
        if (cmd === 'leave') throw new LegiondError('ERR_INVALID_VALUE', 'nope');
        if (cmd === 'status') throw new TypeError('bug');
        // a handler that throws before returning a promise must not take the server down
        throw 'thrown string';
      },
      subscribe() {
        throw new RangeError('bug in subscribe');
      },
    };
    await start(handler);
    const c = await client();
    expect(await c.request(1, 'leave', { legion: 'web' })).toMatchObject({
      error: { code: 'ERR_INVALID_VALUE', message: 'nope' },
    });
    expect(await c.request(2, 'status')).toMatchObject({ error: { code: 'ERR_INTERNAL' } });
    expect(await c.request(3, 'scroll.get', { legion: 'web' })).toMatchObject({
      error: { code: 'ERR_INTERNAL' },
    });
    expect(await c.request(4, 'events')).toMatchObject({ id: 4, error: { code: 'ERR_INTERNAL' } });
    expect(await c.request(5, 'members')).toMatchObject({ id: 5, error: { code: 'ERR_INTERNAL' } });
  });

  it('answers pipelined requests each under its own id', async () => {
    await start();
    const c = await client();
    c.write(
      `${JSON.stringify({ v: 1, id: 1, cmd: 'valor.get', args: { legion: 'web' } })}\n${JSON.stringify({ v: 1, id: 2, cmd: 'valor.get', args: { legion: 'db' } })}\n`,
    );
    const replies = [await c.next(), await c.next()].sort((a, b) => Number(a.id) - Number(b.id));
    expect(replies.map((r) => (r.result as { legion: string }).legion)).toEqual(['web', 'db']);
  });
});

describe('event streams', () => {
  it('acknowledges, streams matching events, and unsubscribes when the client leaves', async () => {
    const h = new FakeHandler();
    await start(h);
    const web = await client();
    const all = await client();
    expect(await web.request(11, 'events', { legion: 'web' })).toEqual({
      v: 1,
      id: 11,
      ok: true,
      result: { streaming: true },
    });
    expect(await all.request(12, 'events')).toMatchObject({ id: 12, ok: true });
    expect(h.subscriberCount).toBe(2);
    h.emit('db', 'node-joined', { member: { uuid: 'u-c', name: 'node-c' } });
    h.emit('web', 'lord');
    expect(await web.next()).toMatchObject({
      v: 1,
      id: 11,
      event: { legion: 'web', type: 'lord', epoch: '7' },
    });
    expect(await all.next()).toMatchObject({ id: 12, event: { legion: 'db', type: 'node-joined' } });
    expect(await all.next()).toMatchObject({ id: 12, event: { legion: 'web', type: 'lord' } });
    web.close();
    all.close();
    for (let i = 0; i < 200 && h.subscriberCount > 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(h.subscriberCount).toBe(0);
  });

  it('refuses a stream for an unknown legion with ERR_UNKNOWN_LEGION', async () => {
    const h = new FakeHandler();
    await start(h);
    const c = await client();
    expect(await c.request(1, 'events', { legion: 'nope' })).toMatchObject({
      ok: false,
      error: { code: 'ERR_UNKNOWN_LEGION' },
    });
    expect(h.subscriberCount).toBe(0);
  });

  it('encodes bigint fields of events as decimal strings', async () => {
    const h = new FakeHandler();
    await start(h);
    const c = await client();
    await c.request(1, 'events', { legion: 'web' });
    h.emit('web', 'lord', { epoch: 18446744073709551615n });
    expect(await c.next()).toMatchObject({ event: { epoch: '18446744073709551615' } });
  });
});

describe('socket file', () => {
  it('is created 0600 in a 0700 parent it creates, and removed on close', async () => {
    const nested = join(dir, 'run', 'legiond', 'ctl.sock');
    const s = await start(new FakeHandler(), nested);
    expect(statSync(nested).isSocket()).toBe(true);
    expect(statSync(nested).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, 'run', 'legiond')).mode & 0o777).toBe(0o700);
    await s.close();
    expect(existsSync(nested)).toBe(false);
  });

  it('replaces a stale socket left by a dead server', async () => {
    // a daemon killed with SIGKILL leaves its socket file behind with nobody listening
    const script = `require('node:net').createServer().listen(process.argv[1], () => process.kill(process.pid, 'SIGKILL'))`;
    const r = spawnSync(process.execPath, ['-e', script, sockPath], { timeout: 10_000 });
    expect(r.signal).toBe('SIGKILL');
    expect(statSync(sockPath).isSocket()).toBe(true);
    await start();
    const c = await client();
    expect(await c.request(1, 'status')).toMatchObject({ ok: true });
  });

  it('refuses with ERR_CONTROL_IN_USE when a live server holds the path, and leaves it working', async () => {
    await start();
    const err = await startControlServer({ path: sockPath, handler: new FakeHandler(), logger }).catch(
      (e) => e,
    );
    expect(isLegiondError(err, 'ERR_CONTROL_IN_USE')).toBe(true);
    const c = await client();
    expect(await c.request(1, 'status')).toMatchObject({ ok: true });
  });

  it('refuses with ERR_CONTROL_PATH when the path is a regular file, and does not delete it', async () => {
    writeFileSync(sockPath, 'precious');
    const err = await startControlServer({ path: sockPath, handler: new FakeHandler(), logger }).catch(
      (e) => e,
    );
    expect(isLegiondError(err, 'ERR_CONTROL_PATH')).toBe(true);
    expect(statSync(sockPath).isFile()).toBe(true);
  });

  it('does not let another user connect (EACCES), though the directory is open to all', async () => {
    if (process.getuid?.() !== 0) throw new Error('this test must run as root to spawn a process as nobody');
    chmodSync(dir, 0o755);
    await start();
    const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
    const script = `
      const s = require('node:net').connect(process.argv[1]);
      s.on('connect', () => { console.log('CONNECTED'); s.destroy(); });
      s.on('error', (e) => console.log(e.code));`;
    const child = spawn(process.execPath, ['-e', script, sockPath], {
      uid,
      gid,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    cleanup.push(() => child.kill());
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    const code = await new Promise<number | null>((r) => child.on('exit', r));
    expect(code).toBe(0);
    expect(out.trim()).toBe('EACCES');
  });
});
