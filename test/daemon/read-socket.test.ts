/**
 * The read-only control socket with a second uid: a client running as nobody, in the socket's
 * group, reads through it and is refused admin commands (ERR_FORBIDDEN) on a connection that
 * stays usable, while the admin socket refuses it the connection itself (EACCES). A user
 * outside the group cannot connect to either.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab, LEGIONCTL, ROOT, until } from '../helpers/procs.js';

let lab: Lab;
afterEach(async () => {
  await lab.cleanup();
});

const NOGROUP = 'nogroup';

function gidOf(group: string): number {
  const r = spawnSync('getent', ['group', group], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`this test needs the group ${group} (getent group ${group} failed)`);
  return Number(r.stdout.split(':')[2]);
}

/** runs argv as uid 65534 with exactly the given gid and no supplementary groups */
function asNobody(gid: number, argv: string[]) {
  if (process.getuid?.() !== 0)
    throw new Error('this test runs a client as another uid: it must run as root');
  const probe = spawnSync('setpriv', ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) throw new Error('this test needs setpriv (util-linux)');
  const r = spawnSync('setpriv', ['--reuid=65534', `--regid=${gid}`, '--clear-groups', ...argv], {
    encoding: 'utf8',
    timeout: 20_000,
    cwd: '/',
    env: { ...process.env, HOME: '/tmp' },
  });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** the client library, as an application running as another user would use it */
const CLIENT_SCRIPT = `
const [readPath, adminPath] = process.argv.slice(2);
const lib = await import(${JSON.stringify(join(ROOT, 'dist', 'src', 'client', 'index.js'))});
const code = (p) => p.then(() => 'ok', (e) => e.code ?? String(e));
const out = {};
const client = new lib.LegiondClient({ path: readPath });
out.status = (await client.status('web')).name;
out.lord = await client.lord('web');
out.isLord = await client.isLord('web');
out.members = (await client.members('web')).map((m) => m.name).sort();
out.scroll = await client.scroll('web');
const conn = await lib.ControlConnection.open(readPath);
out.valorSet = await code(conn.request('valor.set', { legion: 'web', valor: '999' }));
out.scrollSet = await code(conn.request('scroll.set', { legion: 'web', scroll: 'x' }));
out.stepdown = await code(conn.request('stepdown', { legion: 'web' }));
out.leave = await code(conn.request('leave', { legion: 'web' }));
out.sameConnection = (await conn.request('valor.get', { legion: 'web' })).valor;
conn.close();
out.admin = await code(new lib.LegiondClient({ path: adminPath }).status());
console.log(JSON.stringify(out));
`;

describe('read-only control socket (second uid)', () => {
  it('serves reads to its group, refuses admin commands, and the admin socket stays owner-only', async () => {
    lab = new Lab();
    chmodSync(lab.dir, 0o755);
    const gid = gidOf(NOGROUP);
    const secret = lab.secret();
    const admin = lab.path('n1.sock');
    const readPath = join(lab.dir, 'public', 'read.sock');
    const config = lab.path('n1.yaml');
    writeFileSync(
      config,
      `control: ${admin}\n` +
        `control_read: {path: ${readPath}, group: ${NOGROUP}}\n` +
        'legions:\n' +
        '  - name: web\n' +
        '    node_name: n1\n' +
        '    bind: 127.0.0.1:48200\n' +
        '    peers: ["127.0.0.1:48201"]\n' +
        '    valor: 100\n' +
        `    secret_file: ${secret}\n`,
    );
    const n2 = lab.legiond('n2', [
      ...lab.nodeArgs({ legion: 'web', base: 48200, i: 1, n: 2, valor: 200 }),
      '--secret-file',
      secret,
      '--scroll',
      'addr=127.0.0.1:6379',
    ]);
    await n2.waitEvent('lord');
    const n1 = lab.legiond('n1', ['--config', config]);
    await n1.ready();
    await n1.waitFor((l) => l.event === 'node-joined' && l.member === 'n2', 10_000, 'n2 to be seen');

    expect(statSync(admin).mode & 0o777).toBe(0o600);
    const st = statSync(readPath);
    expect(st.mode & 0o777).toBe(0o660);
    expect(st.gid).toBe(gid);
    expect(statSync(join(lab.dir, 'public')).mode & 0o777).toBe(0o711);

    const script = lab.path('client.mjs');
    writeFileSync(script, CLIENT_SCRIPT, { mode: 0o644 });
    // wait until n1 has taken n2 as its lord, as seen through the read socket itself
    let r = { code: null as number | null, stdout: '', stderr: '' };
    await until(() => {
      r = asNobody(gid, [process.execPath, script, readPath, admin]);
      return r.code === 0 && JSON.parse(r.stdout).lord?.name === 'n2';
    }, `n1 to see n2 as lord through the read socket: ${r.stdout}${r.stderr}`);
    const got = JSON.parse(r.stdout);
    expect(got).toMatchObject({
      status: 'n1',
      lord: { name: 'n2', scroll: 'addr=127.0.0.1:6379', self: false },
      isLord: false,
      members: ['n1', 'n2'],
      scroll: '',
      valorSet: 'ERR_FORBIDDEN',
      scrollSet: 'ERR_FORBIDDEN',
      stepdown: 'ERR_FORBIDDEN',
      leave: 'ERR_FORBIDDEN',
      sameConnection: '100',
      admin: 'ERR_PERMISSION',
    });
    expect(got.lord.epoch).toMatch(/^[0-9]+$/);

    // legionctl as the same user: reads work, admin commands exit 1 naming the code
    const ctl = (...args: string[]) =>
      asNobody(gid, [process.execPath, LEGIONCTL, '--control', readPath, ...args]);
    const lord = ctl('lord', 'web', '--json');
    expect(lord.code).toBe(0);
    expect(JSON.parse(lord.stdout).lord.name).toBe('n2');
    const set = ctl('valor', 'set', 'web', '5');
    expect(set.code).toBe(1);
    expect(set.stderr).toMatch(/\(ERR_FORBIDDEN\)/);
    const adminCtl = asNobody(gid, [process.execPath, LEGIONCTL, '--control', admin, 'status']);
    expect(adminCtl.code).toBe(1);
    expect(adminCtl.stderr).toMatch(/\(ERR_PERMISSION\)/);

    // outside the socket's group, the read socket refuses the connection too
    const outsider = asNobody(65533, [process.execPath, LEGIONCTL, '--control', readPath, 'status']);
    expect(outsider.code).toBe(1);
    expect(outsider.stderr).toMatch(/\(ERR_PERMISSION\)/);

    // nothing the refused commands asked for happened
    const mine = spawnSync(
      process.execPath,
      [LEGIONCTL, '--control', admin, 'valor', 'get', 'web', '--json'],
      {
        encoding: 'utf8',
      },
    );
    expect(JSON.parse(mine.stdout).valor).toBe('100');
    expect(n1.child.exitCode).toBeNull();
  });

  it('a group the host does not know stops the daemon before it starts, naming the key and the file', () => {
    lab = new Lab();
    const config = lab.path('bad.yaml');
    writeFileSync(
      config,
      `control: ${lab.path('n1.sock')}\n` +
        `control_read: {path: ${lab.path('r.sock')}, group: no-such-group-legiond}\n` +
        'legions:\n  - name: web\n    bind: 127.0.0.1:48202\n    peers: ["127.0.0.1:48203"]\n    insecure: true\n',
    );
    const r = spawnSync(
      process.execPath,
      [join(ROOT, 'dist', 'src', 'cli', 'legiond.js'), '--config', config],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    expect(r.status).toBe(2);
    expect(r.stderr).toContain(config);
    expect(r.stderr).toMatch(/control_read\.group: no group named "no-such-group-legiond"/);
  });
});
