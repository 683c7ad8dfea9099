/**
 * Lord-only work in real daemons configured from YAML files: cron entries and attached daemons
 * follow the title, valor checks move it, a failing lord hook steps the node down for a while,
 * and epochs survive a restart through the state directory.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, Lab, legionctl, type Proc, until } from '../helpers/procs.js';

let lab: Lab;
afterEach(async () => {
  await lab.cleanup();
});

const lines = (f: string) =>
  existsSync(f) ? readFileSync(f, 'utf8').trim().split('\n').filter(Boolean) : [];

function writeConfig(name: string, port: number, peer: number, valor: number, extra: string): string {
  const file = lab.path(`${name}.yaml`);
  writeFileSync(
    file,
    `control: ${lab.path(`${name}.sock`)}\nstate_dir: ${lab.path(`state-${name}`)}\nlegions:\n  - name: web\n    node_name: ${name}\n` +
      `    bind: 127.0.0.1:${port}\n    peers: ["127.0.0.1:${peer}"]\n    valor: ${valor}\n    secret_file: ${lab.path('secret')}\n${extra}`,
  );
  return file;
}

async function startPair(base: number, extra: (name: string) => string): Promise<Proc[]> {
  lab.secret();
  const n2 = lab.legiond('n2', ['--config', writeConfig('n2', base + 1, base, 200, extra('n2'))]);
  await n2.waitEvent('lord');
  const n1 = lab.legiond('n1', ['--config', writeConfig('n1', base, base + 1, 100, extra('n1'))]);
  await n1.waitFor((l) => l.event === 'node-joined' && l.member === 'n2', 10_000, 'n2 seen');
  await Promise.all([n1.ready(), n2.ready()]);
  return [n1, n2];
}

describe('lord-only work in real daemons', () => {
  it('cron runs only on the lord and attached daemons follow the title', async () => {
    lab = new Lab();
    const cronLog = lab.path('cron.log');
    const [n1, n2] = await startPair(46600, (name) =>
      [
        '    cron:',
        `      - schedule: "* * * * * *"`,
        `        command: echo "$LEGION_NODE_NAME $LEGION_EPOCH" >> ${cronLog}`,
        '    daemons:',
        `      - command: echo $$ > ${lab.path(`daemon-${name}.pid`)}; exec sleep 1000`,
        '        grace: 1s',
      ].join('\n'),
    );
    await until(() => lines(cronLog).length >= 2, 'two cron runs');
    expect(new Set(lines(cronLog).map((l) => l.split(' ')[0]))).toEqual(new Set(['n2']));
    await until(() => existsSync(lab.path('daemon-n2.pid')), "n2's attached daemon");
    const d2 = Number(readFileSync(lab.path('daemon-n2.pid'), 'utf8'));
    expect(isAlive(d2)).toBe(true);
    expect(existsSync(lab.path('daemon-n1.pid'))).toBe(false);

    const [m1, m2] = [n1!.mark(), n2!.mark()];
    expect(legionctl(['--control', lab.path('n2.sock'), 'valor', 'set', 'web', '10']).code).toBe(0);
    await n1!.waitEvent('lord', 5000, m1);
    await n2!.waitEvent('unlord', 5000, m2);
    await until(() => !isAlive(d2), "n2's daemon to be stopped");
    await until(() => existsSync(lab.path('daemon-n1.pid')), "n1's attached daemon");
    const switchedAt = lines(cronLog).length;
    await until(() => lines(cronLog).length >= switchedAt + 2, 'two more cron runs');
    const after = lines(cronLog).slice(switchedAt + 1);
    expect(after.every((l) => l.startsWith('n1 '))).toBe(true);
  });

  it('a failing valor check lowers the valor and moves the title; status shows it', async () => {
    lab = new Lab();
    const fail = lab.path('fail-n2');
    const [n1, n2] = await startPair(46610, (name) =>
      [
        '    checks:',
        `      - command: test ! -e ${lab.path(`fail-${name}`)}`,
        '        interval: 200ms',
        '        timeout: 1s',
        '        weight: 150',
        '        fall: 2',
        '        rise: 2',
      ].join('\n'),
    );
    const m1 = n1!.mark();
    writeFileSync(fail, '');
    await n1!.waitEvent('lord', 6000, m1);
    const st = JSON.parse(legionctl(['--control', lab.path('n2.sock'), 'status', '--json']).stdout);
    expect(st.legions[0].baseValor).toBe('200');
    expect(st.legions[0].valor).toBe('50');
    expect(st.legions[0].checks[0].state).toBe('failing');
    const m2 = n2!.mark();
    rmSync(fail);
    await n2!.waitEvent('lord', 6000, m2);
    const back = JSON.parse(legionctl(['--control', lab.path('n2.sock'), 'status', '--json']).stdout);
    expect(back.legions[0].valor).toBe('200');
    expect(back.legions[0].checks[0].state).toBe('ok');
  });

  it('a failing lord hook steps the node down for a while, then it rejoins', async () => {
    lab = new Lab();
    const flag = lab.path('lord-hook-fails');
    const [n1, n2] = await startPair(46620, (name) =>
      [
        '    hooks:',
        `      lord: "${name === 'n2' ? `test ! -e ${flag}` : 'exit 0'}"`,
        '    lord_hook_failure:',
        '      stepdown: 1500ms',
      ].join('\n'),
    );
    writeFileSync(flag, '');
    // a fresh lordship runs the hook again: drop and retake the title by valor
    const m1 = n1!.mark();
    expect(legionctl(['--control', lab.path('n2.sock'), 'valor', 'set', 'web', '50']).code).toBe(0);
    await n1!.waitEvent('lord', 5000, m1);
    const m2 = n2!.mark();
    expect(legionctl(['--control', lab.path('n2.sock'), 'valor', 'set', 'web', '200']).code).toBe(0);
    const stepped = await n2!.waitFor(
      (l) => l.event === 'unlord' && l.reason === 'hook-failed',
      6000,
      'hook-failed unlord',
      m2,
    );
    expect(stepped.reason).toBe('hook-failed');
    const m3 = n2!.mark();
    rmSync(flag);
    await n2!.waitEvent('lord', 8000, m3);
  });

  it('the epoch survives a restart of the whole legion through state_dir', async () => {
    lab = new Lab();
    const [n1, n2] = await startPair(46630, () => '');
    const first = await n2!.waitEvent('lord');
    n1!.kill('SIGTERM');
    n2!.kill('SIGTERM');
    await Promise.all([n1!.exited, n2!.exited]);
    const again = lab.legiond('n2b', ['--config', lab.path('n2.yaml')]);
    const second = await again.waitEvent('lord');
    expect(BigInt(second.epoch as string)).toBeGreaterThan(BigInt(first.epoch as string));
  });
});
