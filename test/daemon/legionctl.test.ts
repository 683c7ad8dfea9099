/**
 * legionctl against real daemons on loopback: valor, stepdown, scroll, events, permissions and
 * bad requests.
 */
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab, LEGIONCTL, legionctl, sleep, until } from '../helpers/procs.js';

let lab: Lab;
afterEach(async () => {
  await lab.cleanup();
});

const ctl = (node: string, ...args: string[]) => legionctl(['--control', lab.path(`${node}.sock`), ...args]);

function lordOf(node: string): string | undefined {
  const r = ctl(node, 'members', 'web', '--json');
  expect(r.code).toBe(0);
  const members = JSON.parse(r.stdout) as Array<{ name: string; lord: boolean }>;
  return members.find((m) => m.lord)?.name;
}

describe('legionctl with real daemons', () => {
  it('valor set on the lower node moves the title to it, and back', async () => {
    lab = new Lab();
    const [n1, n2] = await lab.legion(46500, 2);
    const [m1, m2] = [n1!.mark(), n2!.mark()];
    const set = ctl('n1', 'valor', 'set', 'web', '500');
    expect(set.code).toBe(0);
    await n1!.waitEvent('lord', 5000, m1);
    await n2!.waitEvent('unlord', 5000, m2);
    await until(() => lordOf('n2') === 'n1', 'n2 to see n1 as lord');
    const get = ctl('n1', 'valor', 'get', 'web', '--json');
    expect(JSON.parse(get.stdout).valor).toBe('500');
    const m3 = n1!.mark();
    expect(ctl('n1', 'valor', 'set', 'web', '50').code).toBe(0);
    await n1!.waitEvent('unlord', 5000, m3);
    await until(() => lordOf('n1') === 'n2', 'the title to go back to n2');
  });

  it('stepdown hands the title over and --cancel takes it back', async () => {
    lab = new Lab();
    const [n1, n2] = await lab.legion(46510, 2);
    const [m1, m2] = [n1!.mark(), n2!.mark()];
    const r = ctl('n2', 'stepdown', 'web', '--for', '5m');
    expect(r.code).toBe(0);
    await n2!.waitEvent('unlord', 5000, m2);
    await n1!.waitEvent('lord', 5000, m1);
    await until(() => lordOf('n2') === 'n1', 'n2 to see n1 as lord');
    const st = JSON.parse(ctl('n2', 'status', '--json').stdout);
    expect(st.legions[0].draining).toBe(true);
    const [m3, m4] = [n1!.mark(), n2!.mark()];
    expect(ctl('n2', 'stepdown', 'web', '--cancel').code).toBe(0);
    await n1!.waitEvent('unlord', 5000, m3);
    await n2!.waitEvent('lord', 5000, m4);
    await until(() => lordOf('n1') === 'n2', 'n2 to take the title back');
  });

  it('a scroll set on one node shows in members --json on the other', async () => {
    lab = new Lab();
    await lab.legion(46520, 2);
    expect(ctl('n2', 'scroll', 'set', 'web', 'addr=10.0.0.5:6379').code).toBe(0);
    await until(
      () => {
        const m = JSON.parse(ctl('n1', 'members', 'web', '--json').stdout) as Array<{
          name: string;
          scroll: string;
        }>;
        return m.find((x) => x.name === 'n2')?.scroll === 'addr=10.0.0.5:6379';
      },
      'the scroll to reach n1',
      3000,
    );
    const table = ctl('n1', 'members', 'web');
    expect(table.stdout).toMatch(/NAME/);
    expect(table.stdout).toMatch(/n2.*addr=10\.0\.0\.5:6379/);
    expect(JSON.parse(ctl('n2', 'scroll', 'get', 'web', '--json').stdout).scroll).toBe('addr=10.0.0.5:6379');
  });

  it('events shows a failover as it happens', async () => {
    lab = new Lab();
    const [, n2] = await lab.legion(46530, 2);
    const watcher = spawn(
      process.execPath,
      [LEGIONCTL, '--control', lab.path('n1.sock'), 'events', 'web', '--json'],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    watcher.stdout.on('data', (d) => (out += d));
    try {
      await sleep(500);
      n2!.kill('SIGKILL');
      await until(() => out.includes('"type":"lord"'), 'a lord event on the stream', 6000);
      const events = out
        .trim()
        .split('\n')
        .map(
          (l) =>
            JSON.parse(l) as {
              type: string;
              member?: { name: string };
              lord: { name: string } | null;
              epoch: string;
            },
        );
      const left = events.findIndex((e) => e.type === 'node-left' && e.member?.name === 'n2');
      const lord = events.findIndex((e) => e.type === 'lord');
      expect(left).toBeGreaterThanOrEqual(0);
      expect(lord).toBeGreaterThan(left);
      expect(events[lord]!.lord?.name).toBe('n1');
      expect(events[lord]!.epoch).toBe('2');
    } finally {
      watcher.kill('SIGINT');
    }
  });

  it('another user cannot use the control socket', async () => {
    lab = new Lab();
    chmodSync(lab.dir, 0o755);
    await lab.legion(46540, 2);
    const uid = Number(execFileSync('id', ['-u', 'nobody'], { encoding: 'utf8' }).trim());
    const gid = Number(execFileSync('id', ['-g', 'nobody'], { encoding: 'utf8' }).trim());
    const r = legionctl(['--control', lab.path('n1.sock'), 'status'], { uid, gid });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/ERR_PERMISSION/);
    expect(ctl('n1', 'status').code).toBe(0);
  });

  it('bad requests get error replies and the daemon keeps its lord', async () => {
    lab = new Lab();
    const [n1] = await lab.legion(46550, 2);
    const replies = await new Promise<string>((resolve, reject) => {
      const sock = connect(lab.path('n1.sock'));
      let buf = '';
      sock.on('data', (d) => {
        buf += d;
        if (buf.split('\n').filter(Boolean).length >= 4) {
          sock.end();
          resolve(buf);
        }
      });
      sock.on('error', reject);
      sock.write('this is not json\n');
      sock.write('{"v":1,"id":2,"cmd":"launch-missiles"}\n');
      sock.write('{"v":1,"id":3,"cmd":"valor.set","args":{"legion":"web","valor":"-1"}}\n');
      sock.write('{"v":1,"id":4,"cmd":"valor.get","args":{"legion":"nope"}}\n');
      setTimeout(() => reject(new Error(`no replies: ${buf}`)), 5000);
    });
    const codes = replies
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { error?: { code: string } }).error?.code);
    expect(codes).toEqual([
      'ERR_BAD_REQUEST',
      'ERR_UNKNOWN_COMMAND',
      'ERR_INVALID_VALUE',
      'ERR_UNKNOWN_LEGION',
    ]);
    const bad = ctl('n1', 'valor', 'set', 'nope', '5');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/ERR_UNKNOWN_LEGION/);
    expect(ctl('n1', 'valor', 'set', 'web', 'lots').code).not.toBe(0);
    expect(lordOf('n1')).toBe('n2');
    expect(n1!.child.exitCode).toBeNull();
  });
});
