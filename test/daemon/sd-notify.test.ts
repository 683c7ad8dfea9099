/**
 * sd_notify against a real AF_UNIX datagram listener (test/helpers/notify-listener.ts): readiness
 * on a passive node and on the first node of a quorum-2 legion, STATUS across a failover,
 * RELOADING/READY around SIGHUP, STOPPING at SIGTERM, and watchdog pings that stop while legiond
 * is SIGSTOPped. Ports 48000-48049.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { NotifyListener } from '../helpers/notify-listener.js';
import { Lab, sleep } from '../helpers/procs.js';

let lab: Lab;
const listeners: NotifyListener[] = [];
afterEach(async () => {
  for (const l of listeners.splice(0)) l.close();
  await lab.cleanup();
});

async function listen(path: string): Promise<NotifyListener> {
  const l = new NotifyListener(path);
  listeners.push(l);
  await l.ready();
  return l;
}

/** legiond's sd_notify helper: its only perl child */
function helperPid(parent: number): number {
  const out = execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(parent)], { encoding: 'utf8' });
  const line = out.split('\n').find((x) => x.trim().endsWith('perl'));
  if (!line) throw new Error(`no perl child of ${parent}: ${out}`);
  return Number(line.trim().split(/\s+/)[0]);
}

const status = (text: string) => (m: { fields: Record<string, string> }) => m.fields.STATUS === text;

describe('sd_notify', () => {
  it('a node that is not lord reports READY, and STATUS follows a failover', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const l1 = await listen(lab.path('n1.notify'));
    const args = (i: number, valor: number) =>
      lab.nodeArgs({ legion: 'web', base: 48000, i, n: 2, valor, extra: ['--secret-file', secret] });
    const n2 = lab.legiond('n2', args(1, 200));
    await n2.waitEvent('lord');
    const n1 = lab.legiond('n1', args(0, 100), { NOTIFY_SOCKET: l1.path });
    await l1.waitFor((m) => m.fields.READY === '1', 'READY=1');
    expect(n1.events('lord')).toHaveLength(0);
    // once it heard n2, it says whom it follows
    await l1.waitFor(status('web: follower, lord n2, epoch 1'), 'STATUS naming the lord n2');
    // no watchdog without WATCHDOG_USEC
    expect(l1.count('WATCHDOG')).toBe(0);

    const mark = l1.mark();
    n2.kill('SIGKILL');
    await n1.waitEvent('lord');
    await l1.waitFor(
      (m) => /^web: lord, lord n1, epoch \d+$/.test(m.fields.STATUS ?? ''),
      'STATUS saying n1 is lord',
      10_000,
      mark,
    );

    const stopMark = l1.mark();
    n1.kill('SIGTERM');
    await l1.waitFor((m) => m.fields.STOPPING === '1', 'STOPPING=1', 10_000, stopMark);
    expect((await n1.exited).code).toBe(0);
  });

  it('the first node of a quorum-2 legion is READY alone, on an abstract socket; WATCHDOG_PID of another process means no pings', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const name = `@legiond-test-${process.pid}-${Date.now()}`;
    const l = await listen(name);
    const n1 = lab.legiond(
      'n1',
      lab.nodeArgs({
        legion: 'web',
        base: 48010,
        i: 0,
        n: 3,
        valor: 100,
        extra: ['--secret-file', secret, '--quorum', '2'],
      }),
      { NOTIFY_SOCKET: name, WATCHDOG_USEC: '200000', WATCHDOG_PID: '1' },
    );
    const ready = await l.waitFor((m) => m.fields.READY === '1', 'READY=1 with no quorum');
    expect(ready.fields.STATUS).toBe('web: follower, lord none, epoch 0');
    expect(n1.events('join')).toHaveLength(0);
    expect(n1.events('lord')).toHaveLength(0);
    // pings would come every 100 ms if WATCHDOG_PID were ignored
    await sleep(800);
    expect(l.count('WATCHDOG')).toBe(0);

    // the perl helper dies: legiond logs it, starts another and says READY and STATUS again
    const helper = helperPid(n1.child.pid!);
    const mark = l.mark();
    process.kill(helper, 'SIGKILL');
    await n1.waitFor((x) => x.msg === 'sd_notify: helper restarted', 10_000, 'the helper restarted');
    expect(n1.lines.some((x) => x.msg === 'sd_notify: perl helper exited; restarting it')).toBe(true);
    await l.waitFor((m) => m.fields.READY === '1', 'READY=1 again', 10_000, mark);
    await l.waitFor(status('web: follower, lord none, epoch 0'), 'STATUS again', 10_000, mark);
    expect(helperPid(n1.child.pid!)).not.toBe(helper);
    expect(n1.child.exitCode).toBeNull();
  });

  it('RELOADING then READY around SIGHUP; watchdog pings stop under SIGSTOP and resume after SIGCONT', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const file = lab.path('legiond.yaml');
    writeFileSync(
      file,
      [
        `control: ${lab.path('solo.sock')}`,
        'legions:',
        '  - name: web',
        '    node_name: solo',
        '    bind: 127.0.0.1:48020',
        '    peers: [127.0.0.1:48021]',
        `    secret_file: ${secret}`,
        '',
      ].join('\n'),
    );
    const l = await listen(lab.path('solo.notify'));
    const p = lab.legiond('solo', ['--config', file], {
      NOTIFY_SOCKET: l.path,
      WATCHDOG_USEC: '500000',
      WATCHDOG_PID: '',
    });
    await l.waitFor((m) => m.fields.READY === '1', 'READY=1');
    await l.waitFor(status('web: lord, lord solo, epoch 1'), 'STATUS lord');
    // pings every 250 ms from the runner's steps
    const pingMark = l.mark();
    await l.waitFor((m) => m.fields.WATCHDOG === '1', 'a WATCHDOG=1', 5000, pingMark);
    await l.waitFor((m) => m.fields.WATCHDOG === '1', 'a second WATCHDOG=1', 5000, l.mark());

    const reloadMark = l.mark();
    p.kill('SIGHUP');
    const reloading = await l.waitFor((m) => m.fields.RELOADING === '1', 'RELOADING=1', 10_000, reloadMark);
    const now = process.hrtime.bigint() / 1000n;
    const usec = BigInt(reloading.fields.MONOTONIC_USEC ?? '-1');
    // CLOCK_MONOTONIC of the same host: close to ours, not wall time
    expect(usec > 0n && now - usec < 30_000_000n && usec - now < 1_000_000n).toBe(true);
    const after = l.messages.indexOf(reloading) + 1;
    await l.waitFor((m) => m.fields.READY === '1', 'READY=1 after the reload', 10_000, after);

    p.kill('SIGSTOP');
    // a ping written just before the stop may still be on its way
    await sleep(500);
    const stoppedMark = l.mark();
    await sleep(1500);
    expect(l.count('WATCHDOG', stoppedMark)).toBe(0);
    p.kill('SIGCONT');
    await l.waitFor((m) => m.fields.WATCHDOG === '1', 'WATCHDOG=1 after SIGCONT', 5000, stoppedMark);

    const stopMark = l.mark();
    p.kill('SIGTERM');
    await l.waitFor((m) => m.fields.STOPPING === '1', 'STOPPING=1', 10_000, stopMark);
    expect((await p.exited).code).toBe(0);
  });
});
