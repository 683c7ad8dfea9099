import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ControlConnection } from '../../src/control/connection.js';
import { COMMANDS, READ_COMMANDS } from '../../src/control/protocol.js';
import { startControlServer } from '../../src/control/server.js';
import { isLegiondError } from '../../src/errors.js';
import { FakeHandler } from './fake-handler.js';

const logger = pino({ level: 'silent' });
let dir: string;
const cleanup: Array<() => unknown> = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legiond-read-'));
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

async function readServer(path: string, mode = 0o660, gid: number | null = null) {
  const handler = new FakeHandler();
  const s = await startControlServer({ path, handler, logger, access: { kind: 'read', mode, gid } });
  cleanup.push(() => s.close());
  return handler;
}

async function open(path: string) {
  const c = await ControlConnection.open(path);
  cleanup.push(() => c.close());
  return c;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  return isLegiondError(e) ? e.code : `unexpected: ${String(e)}`;
}

describe('read-only control socket', () => {
  it('serves exactly the read commands', () => {
    expect([...READ_COMMANDS].sort()).toEqual([
      'events',
      'lord',
      'members',
      'scroll.get',
      'status',
      'valor.get',
    ]);
    for (const c of READ_COMMANDS) expect(COMMANDS).toContain(c);
  });

  it('refuses every admin command with ERR_FORBIDDEN without calling the daemon, and stays usable', async () => {
    const path = join(dir, 'read.sock');
    const h = await readServer(path);
    const c = await open(path);
    const admin = [
      c.request('valor.set', { legion: 'web', valor: '5' }),
      c.request('scroll.set', { legion: 'web', scroll: 'x' }),
      c.request('stepdown', { legion: 'web' }),
      c.request('leave', { legion: 'web' }),
    ];
    for (const p of admin) expect(await codeOf(p)).toBe('ERR_FORBIDDEN');
    expect(h.calls.map((x) => x.cmd)).toEqual([]);
    // the same connection goes on serving reads
    expect((await c.request('lord', { legion: 'web' })).lord?.name).toBe('node-a');
    expect((await c.request('valor.get', { legion: 'web' })).valor).toBe('100');
    expect((await c.request('scroll.get', { legion: 'web' })).scroll).toBe('addr=10.0.0.5:6379');
    expect((await c.request('members', { legion: 'web' })).legions[0]?.members).toHaveLength(2);
    expect((await c.request('status', {})).pid).toBe(4242);
    const got: Array<Record<string, unknown>> = [];
    await c.stream('events', { legion: 'web' }, (e) => got.push(e));
    h.emit('web', 'lord');
    for (let i = 0; i < 200 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(got.map((e) => e.type)).toEqual(['lord']);
    expect(h.legions.get('web')?.baseValor).toBe(100n);
  });

  it('still tells an unknown command from a forbidden one', async () => {
    const path = join(dir, 'read.sock');
    await readServer(path);
    const c = await open(path);
    expect(await codeOf(c.request('nope' as 'status', {}))).toBe('ERR_UNKNOWN_COMMAND');
  });

  it('takes the mode and group it is given, in a directory it creates searchable (0711)', async () => {
    const path = join(dir, 'sub', 'read.sock');
    const gid = process.getgid?.() ?? 0;
    await readServer(path, 0o640, gid);
    const st = statSync(path);
    expect(st.mode & 0o777).toBe(0o640);
    expect(st.gid).toBe(gid);
    expect(statSync(join(dir, 'sub')).mode & 0o777).toBe(0o711);
  });
});
