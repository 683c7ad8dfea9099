import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LegiondClient } from '../../src/client/index.js';
import { startControlServer } from '../../src/control/server.js';
import { isLegiondError } from '../../src/errors.js';
import { FakeHandler } from '../control/fake-handler.js';

let dir: string;
let path: string;
const cleanup: Array<() => unknown> = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'legiond-lib-'));
  path = join(dir, 'ctl.sock');
});
afterEach(async () => {
  for (const f of cleanup.splice(0).reverse()) await f();
  rmSync(dir, { recursive: true, force: true });
});

async function serve(access?: { kind: 'read'; mode: number; gid: null }) {
  const h = new FakeHandler();
  const s = await startControlServer({
    path,
    handler: h,
    logger: pino({ level: 'silent' }),
    ...(access ? { access } : {}),
  });
  cleanup.push(() => s.close());
  return h;
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const e = await p.then(
    () => null,
    (err: unknown) => err,
  );
  return isLegiondError(e) ? e.code : `unexpected: ${String(e)}`;
}

describe('LegiondClient', () => {
  it('status, members, lord and isLord answer typed results', async () => {
    const h = await serve();
    const c = new LegiondClient({ path });
    expect((await c.status()).legions.map((l) => l.legion)).toEqual(['web', 'db']);
    expect((await c.status('web')).epoch).toBe('7');
    expect((await c.members('web')).map((m) => m.name)).toEqual(['node-a', 'node-b']);
    expect(await c.lord('web')).toEqual({
      uuid: 'u-a',
      name: 'node-a',
      epoch: '7',
      scroll: 'addr=10.0.0.5:6379',
      self: true,
    });
    expect(await c.isLord('web')).toBe(true);
    expect(await c.lord('db')).toBeNull();
    expect(await c.isLord('db')).toBe(false);
    h.lords.set('web', { uuid: 'u-b', name: 'node-b', epoch: '8', scroll: '', self: false });
    expect(await c.isLord('web')).toBe(false);
    expect(await c.scroll('web')).toBe('addr=10.0.0.5:6379');
    expect((await c.valor('web')).valor).toBe('100');
  });

  it('throws LegiondErrors with stable codes', async () => {
    await serve({ kind: 'read', mode: 0o600, gid: null });
    const c = new LegiondClient({ path });
    expect(await codeOf(c.lord('nope'))).toBe('ERR_UNKNOWN_LEGION');
    expect(await codeOf(c.status('nope'))).toBe('ERR_UNKNOWN_LEGION');
    expect(await codeOf(c.request('valor.set', { legion: 'web', valor: '1' }))).toBe('ERR_FORBIDDEN');
    expect(await codeOf(new LegiondClient({ path: join(dir, 'none.sock') }).status())).toBe(
      'ERR_NOT_RUNNING',
    );
  });

  it('takes its socket from LEGIOND_CONTROL when not given one', () => {
    const before = process.env.LEGIOND_CONTROL;
    process.env.LEGIOND_CONTROL = '/tmp/x.sock';
    try {
      expect(new LegiondClient().path).toBe('/tmp/x.sock');
    } finally {
      if (before === undefined) delete process.env.LEGIOND_CONTROL;
      else process.env.LEGIOND_CONTROL = before;
    }
  });
});
