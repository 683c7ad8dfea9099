/**
 * Three real legiond processes on loopback: the election, crash and clean failover, and the
 * order in which hooks run across processes (read from a file every hook appends to).
 */
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, Lab, sleep } from '../helpers/procs.js';

let lab: Lab;
afterEach(async () => {
  await lab.cleanup();
});

/** every hook appends "<node> <event> <epoch>" to one file, so order across processes is visible */
function hookArgs(file: string, events: string[], extra: Record<string, string> = {}): string[] {
  return events.flatMap((e) => [
    '--on',
    `${e}=${extra[e] ?? ''}echo "$LEGION_NODE_NAME ${e} $LEGION_EPOCH" >> ${file}`,
  ]);
}

function readHookLog(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

describe('real legiond processes on loopback', () => {
  it('three nodes started together converge on the highest valor', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const nodes = [0, 1, 2].map((i) =>
      lab.legiond(
        `n${i + 1}`,
        lab.nodeArgs({
          legion: 'web',
          base: 46240,
          i,
          n: 3,
          valor: (i + 1) * 100,
          extra: ['--secret-file', secret],
        }),
      ),
    );
    await nodes[2]!.waitEvent('lord');
    for (const n of nodes.slice(0, 2)) {
      await n.waitFor((l) => l.event === 'node-joined' && l.member === 'n3', 10_000, 'n3 to be seen');
    }
    await sleep(1000);
    // whatever a lower node did while it was alone, it has handed the title over by now
    for (const n of nodes.slice(0, 2)) expect(n.events('lord').length).toBe(n.events('unlord').length);
    expect(nodes[2]!.events('unlord')).toHaveLength(0);
  });

  it('the highest valor is lord and only its lord hook runs', async () => {
    lab = new Lab();
    const log = lab.path('hooks.log');
    const nodes = await lab.legion(46200, 3, () => hookArgs(log, ['lord', 'unlord']));
    // give the others time to (wrongly) claim the title
    await sleep(1500);
    expect(readHookLog(log)).toEqual(['n3 lord 1']);
    for (const n of nodes.slice(0, 2)) expect(n.events('lord')).toHaveLength(0);
  });

  it('SIGKILL of the lord: the next node runs its lord hook, the third does not', async () => {
    lab = new Lab();
    const log = lab.path('hooks.log');
    const nodes = await lab.legion(46210, 3, () => hookArgs(log, ['lord', 'unlord']));
    const since = nodes[1]!.mark();
    nodes[2]!.kill('SIGKILL');
    const ev = await nodes[1]!.waitEvent('lord', 5000, since);
    expect(ev.epoch).toBe('2');
    await sleep(800);
    expect(readHookLog(log)).toEqual(['n3 lord 1', 'n2 lord 2']);
    expect(nodes[0]!.events('lord')).toHaveLength(0);
    const left = nodes[0]!.events('node-left').find((l) => l.member === 'n3');
    expect(left?.reason).toBe('timeout');
  });

  it('SIGTERM of the lord: its unlord hook finishes before its death announce, then the next lord', async () => {
    lab = new Lab();
    const log = lab.path('hooks.log');
    // the unlord hook takes a while, so a successor that did not wait would show up in between
    const nodes = await lab.legion(46220, 3, () =>
      hookArgs(log, ['lord', 'unlord', 'death'], { unlord: 'sleep 0.6; ' }),
    );
    const since = nodes[1]!.mark();
    nodes[2]!.kill('SIGTERM');
    await nodes[1]!.waitEvent('lord', 5000, since);
    const exit = await nodes[2]!.exited;
    expect(exit.code).toBe(0);
    await sleep(300);
    expect(readHookLog(log)).toEqual(['n3 lord 1', 'n3 unlord 1', 'n3 death 1', 'n2 lord 2']);
    const left = nodes[1]!.events('node-left').find((l) => l.member === 'n3');
    expect(left?.reason).toBe('death');
    // the death announce, not a timeout, ended n3's membership
    const lines = nodes[2]!.lines;
    const unlordDone = lines.findIndex((l) => l.msg === 'hook finished' && l.event === 'unlord');
    const death = lines.findIndex((l) => l.msg === 'death announced');
    expect(unlordDone).toBeGreaterThanOrEqual(0);
    expect(death).toBeGreaterThan(unlordDone);
  });

  it('a hook that hangs is killed at its timeout with its children, and the next hook still runs', async () => {
    lab = new Lab();
    const log = lab.path('hooks.log');
    const pidFile = lab.path('grandchild.pid');
    const n = lab.legiond('solo', [
      '--legion',
      'hang',
      '--bind',
      '127.0.0.1:46230',
      '--peer',
      '127.0.0.1:46231',
      '--valor',
      '10',
      '--insecure',
      '--control',
      lab.path('solo.sock'),
      '--hook-timeout',
      '500ms',
      '--on',
      `setup=sh -c 'sleep 30; echo never' & echo $! > ${pidFile}; sleep 30`,
      '--on',
      `join=echo "join ran" >> ${log}`,
      '--on',
      `lord=echo "lord ran" >> ${log}`,
    ]);
    const setupEnd = await n.waitFor(
      (l) => l.msg === 'hook failed' && l.event === 'setup',
      8000,
      'the setup hook to end',
    );
    expect(setupEnd.timedOut).toBe(true);
    await n.waitFor((l) => l.msg === 'hook finished' && l.event === 'lord', 8000, 'the lord hook');
    expect(readHookLog(log)).toEqual(['join ran', 'lord ran']);
    // the whole process group died: the grandchild with the marker is gone
    const grandchild = Number(readFileSync(pidFile, 'utf8').trim());
    expect(grandchild).toBeGreaterThan(0);
    expect(isAlive(grandchild)).toBe(false);
  });
});
