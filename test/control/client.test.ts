import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { controlRequest, controlStream } from '../../src/control/client.js';
import { startControlServer } from '../../src/control/server.js';
import { isLegiondError } from '../../src/errors.js';
import { FakeHandler } from './fake-handler.js';

const logger = pino({ level: 'silent' });
let dir: string;
let path: string;
const cleanup: Array<() => unknown> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legiond-client-'));
  path = join(dir, 'ctl.sock');
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(handler = new FakeHandler()) {
  const s = await startControlServer({ path, handler, logger });
  cleanup.push(() => s.close());
  return handler;
}

/** a hand-made server whose connections are destroyed at cleanup, since it never reads them */
async function rawServer(onConnection: (s: Socket) => void): Promise<Server> {
  const sockets = new Set<Socket>();
  const srv = createServer((s) => {
    sockets.add(s);
    onConnection(s);
  });
  await new Promise<void>((r) => srv.listen(path, r));
  cleanup.push(
    () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        srv.close(r);
      }),
  );
  return srv;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  return isLegiondError(e) ? e.code : `unexpected: ${String(e)}`;
}

describe('controlRequest', () => {
  it('returns the result, and throws the server code as a LegiondError', async () => {
    await serve();
    expect(await controlRequest(path, 'valor.get', { legion: 'web' })).toEqual({
      legion: 'web',
      baseValor: '100',
      valor: '100',
    });
    expect(await codeOf(controlRequest(path, 'valor.get', { legion: 'x' }))).toBe('ERR_UNKNOWN_LEGION');
    // a client of another version may send a command this daemon does not know
    expect(await codeOf(controlRequest(path, 'nope' as 'status', {}))).toBe('ERR_UNKNOWN_COMMAND');
  });

  it('ERR_NOT_RUNNING when there is no socket, or a stale one', async () => {
    expect(await codeOf(controlRequest(path, 'status'))).toBe('ERR_NOT_RUNNING');
    const s = await startControlServer({ path, handler: new FakeHandler(), logger });
    await s.close();
    expect(await codeOf(controlRequest(path, 'status'))).toBe('ERR_NOT_RUNNING');
  });

  it('ERR_PERMISSION when the socket is not ours to use', async () => {
    await serve();
    const uid = process.getuid?.();
    if (uid === 0) {
      // root ignores file modes, so the request is made by a child running as nobody
      chmodSync(dir, 0o755);
      const nobody = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
      const child = spawn(
        join(process.cwd(), 'node_modules', '.bin', 'tsx'),
        [
          '-e',
          `import('${join(process.cwd(), 'src/control/client.ts')}').then((m) => m.controlRequest(process.argv[1], 'status')).then(() => console.log('OK'), (e) => console.log(e.code))`,
          path,
        ],
        {
          uid: nobody,
          gid: nobody,
          stdio: ['ignore', 'pipe', 'pipe'],
          cwd: '/',
          env: { ...process.env, HOME: '/tmp' },
        },
      );
      cleanup.push(() => child.kill());
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
      });
      await new Promise((r) => child.on('exit', r));
      expect(out.trim()).toBe('ERR_PERMISSION');
    } else {
      chmodSync(path, 0o000);
      expect(await codeOf(controlRequest(path, 'status'))).toBe('ERR_PERMISSION');
    }
  });

  it('ERR_TIMEOUT when the daemon never answers', async () => {
    await rawServer(() => undefined);
    expect(await codeOf(controlRequest(path, 'status', {}, { timeoutMs: 50 }))).toBe('ERR_TIMEOUT');
  });

  it('ERR_CONNECTION_CLOSED when the daemon hangs up without a reply', async () => {
    await rawServer((s) => s.end());
    expect(await codeOf(controlRequest(path, 'status'))).toBe('ERR_CONNECTION_CLOSED');
  });
});

describe('controlStream', () => {
  it('delivers events after acceptance and ends cleanly on close()', async () => {
    const h = await serve();
    const got: Array<Record<string, unknown>> = [];
    const stream = await controlStream(path, 'events', { legion: 'web' }, (e) => got.push(e));
    expect(h.subscriberCount).toBe(1);
    h.emit('web', 'lord');
    h.emit('db', 'lord');
    h.emit('web', 'unlord', { reason: 'stepdown' });
    for (let i = 0; i < 200 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
    expect(got.map((e) => e.type)).toEqual(['lord', 'unlord']);
    stream.close();
    await expect(stream.done).resolves.toBeUndefined();
  });

  it('rejects a refused stream, and rejects done when the daemon goes away', async () => {
    await serve();
    expect(await codeOf(controlStream(path, 'events', { legion: 'x' }, () => undefined))).toBe(
      'ERR_UNKNOWN_LEGION',
    );
    const stream = await controlStream(path, 'events', {}, () => undefined);
    await cleanup.pop()?.();
    expect(await codeOf(stream.done)).toBe('ERR_CONNECTION_CLOSED');
  });
});
