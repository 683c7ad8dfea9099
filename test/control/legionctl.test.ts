import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ControlServer, startControlServer } from '../../src/control/server.js';
import { FakeHandler } from './fake-handler.js';

// tsx from node_modules directly: `npx` would add npm's own warnings to stderr
const TSX = join(process.cwd(), 'node_modules', '.bin', 'tsx');
const CLI = join(process.cwd(), 'src', 'cli', 'legionctl.ts');

let dir: string;
let sock: string;
let server: ControlServer;
let handler: FakeHandler;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'legionctl-'));
  sock = join(dir, 'ctl.sock');
  handler = new FakeHandler();
  server = await startControlServer({ path: sock, handler, logger: pino({ level: 'silent' }) });
});
afterAll(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** async, because the server under test lives in this very process */
function legionctl(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      TSX,
      [CLI, ...args],
      { env: { ...process.env, LEGIOND_CONTROL: sock, ...env }, timeout: 30_000 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

describe('legionctl against a fake daemon', () => {
  it('members --json prints one object per member with the documented fields', async () => {
    const r = await legionctl(['members', 'web', '--json']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const rows = JSON.parse(r.stdout) as Array<Record<string, unknown>>;
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatchObject({
      legion: 'web',
      uuid: 'u-a',
      name: 'node-a',
      valor: '100',
      lord: true,
      lastSeenMs: 0,
    });
    expect(rows[1]).toMatchObject({ uuid: 'u-b', lord: false, lastSeenMs: 120, scroll: 'x'.repeat(40) });
  });

  it('members prints an aligned table, and valor set reaches the daemon', async () => {
    const set = await legionctl(['--control', sock, 'valor', 'set', 'db', '42'], {
      LEGIOND_CONTROL: '/nonexistent',
    });
    expect(set).toMatchObject({ code: 0, stdout: 'db: valor 42\n' });
    expect(handler.legions.get('db')?.baseValor).toBe(42n);
    const r = await legionctl(['members']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^LEGION\s+NAME\s+UUID\s+VALOR\s+LORD\s+LAST HEARD\s+SCROLL$/);
    expect(lines).toHaveLength(5);
    expect(lines[2]).toContain('120ms ago');
    expect(lines[2]).toContain(`${'x'.repeat(31)}…`);
    expect(lines[3]).toMatch(/^db\s+node-a\s+u-a\s+42\s+\*/);
  });

  it('exits 1 with the daemon error code, 2 on usage errors, and 1 with ERR_NOT_RUNNING without a daemon', async () => {
    // independent runs, started together: each legionctl start costs a second or two
    const [unknown, badN, badFor, missing, down] = await Promise.all([
      legionctl(['valor', 'get', 'nope']),
      legionctl(['valor', 'set', 'web', '-3']),
      legionctl(['stepdown', 'web', '--for', '30']),
      legionctl(['valor', 'get']),
      legionctl(['status'], { LEGIOND_CONTROL: join(dir, 'absent.sock') }),
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^legionctl: .*nope.* \(ERR_UNKNOWN_LEGION\)\n$/);
    expect(badN.code).toBe(2);
    expect(badN.stderr).toMatch(/\(ERR_INVALID_VALUE\)\n$/);
    expect(badFor.code).toBe(2);
    expect(badFor.stderr).toMatch(/invalid duration "30".*\(ERR_INVALID_VALUE\)/);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/^legionctl: .*legion.*\(ERR_USAGE\)/);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(/\(ERR_NOT_RUNNING\)\n$/);
    expect(handler.calls.some((c) => c.cmd === 'valor.set' && c.args.valor === '-3')).toBe(false);
  });

  it('stepdown --for and scroll set --file send what the user asked', async () => {
    const s = await legionctl(['stepdown', 'web', '--for', '5m', '--json']);
    expect(s.code).toBe(0);
    expect(JSON.parse(s.stdout)).toEqual({ legion: 'web', draining: true, drainingUntilMs: 301_000 });
    expect(handler.calls.at(-1)).toEqual({ cmd: 'stepdown', args: { legion: 'web', forMs: 300_000 } });
    const file = join(dir, 'scroll.txt');
    writeFileSync(file, 'role=primary\nzone=b');
    const f = await legionctl(['scroll', 'set', 'web', '--file', file]);
    expect(f.code).toBe(0);
    const g = await legionctl(['scroll', 'get', 'web']);
    expect(g.stdout).toBe('role=primary\nzone=b\n');
  });

  it('lord prints the lord and its scroll, and exits 3 when the legion has none', async () => {
    const [human, json, none, noneJson] = await Promise.all([
      legionctl(['lord', 'web']),
      legionctl(['lord', 'web', '--json']),
      legionctl(['lord', 'db']),
      legionctl(['lord', 'db', '--json']),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toBe(
      'web: lord node-a (u-a) — this node\n  epoch   7\n  scroll  addr=10.0.0.5:6379\n',
    );
    expect(JSON.parse(json.stdout)).toEqual({
      legion: 'web',
      lord: { uuid: 'u-a', name: 'node-a', epoch: '7', scroll: 'addr=10.0.0.5:6379', self: true },
    });
    expect(none.code).toBe(3);
    expect(none.stdout).toBe('db: no lord\n');
    expect(none.stderr).toBe('');
    expect(noneJson.code).toBe(3);
    expect(JSON.parse(noneJson.stdout)).toEqual({ legion: 'db', lord: null });
  });
});
