/**
 * Peers as seeds, with real processes on loopback: nodes that each list one seed learn every
 * member and elect and fail over as a fully listed legion does; a node without the secret is
 * never learned nor sent to; the limit is counted and logged.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/client.js';
import type { LegionStatus } from '../../src/control/results.js';
import { Lab, sleep, until } from '../helpers/procs.js';

let lab: Lab;
afterEach(async () => {
  await lab.cleanup();
});

const BASE = 48600;

function node(i: number, seeds: number[], secret: string, extra: string[] = []): string[] {
  return [
    '--legion',
    'web',
    '--bind',
    `127.0.0.1:${BASE + i}`,
    ...seeds.flatMap((s) => ['--peer', `127.0.0.1:${BASE + s}`]),
    '--valor',
    String((i + 1) * 100),
    '--node-name',
    `n${i + 1}`,
    '--control',
    lab.path(`n${i + 1}.sock`),
    '--secret-file',
    secret,
    ...extra,
  ];
}

async function status(i: number): Promise<LegionStatus> {
  const r = await controlRequest(lab.path(`n${i + 1}.sock`), 'status');
  return r.legions[0]!;
}

/** polls until every listed node sees `members` members and `lord` as lord */
async function converge(ids: number[], members: number, lord: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    const all = await Promise.all(ids.map((i) => status(i).catch(() => null)));
    last = JSON.stringify(all.map((s) => s && { members: s.members, lord: s.lord?.name }));
    if (all.every((s) => s !== null && s.members === members && s.lord?.name === lord)) return;
    if (Date.now() > deadline) throw new Error(`no convergence on ${members} members, lord ${lord}: ${last}`);
    await sleep(100);
  }
}

describe('peers as seeds', () => {
  it('four nodes that each list one seed learn each other, elect, and fail over', async () => {
    lab = new Lab();
    const secret = lab.secret();
    // n1 and n2 seed each other; n3 and n4 know only n1, and n2 never hears of them from config
    const procs = [
      lab.legiond('n1', node(0, [1], secret)),
      lab.legiond('n2', node(1, [0], secret)),
      lab.legiond('n3', node(2, [0], secret)),
      lab.legiond('n4', node(3, [0], secret)),
    ];
    await Promise.all(procs.map((p) => p.ready()));
    await converge([0, 1, 2, 3], 4, 'n4');
    // n3 sends to n2 and n4 although it lists only n1 (a seed is not counted as learned)
    expect((await status(2)).counters.learning?.learnedPeers).toBe(2);
    // (started together, a node may hold the title alone before it has learned the others)
    const before = procs.map((p) => p.events('lord').length);
    procs[3]!.kill('SIGKILL');
    // n2 follows n3, a node it learned through n1, and the title moves once
    await converge([0, 1, 2], 3, 'n3');
    expect(procs[2]!.events('lord').length - before[2]!).toBe(1);
    expect(procs[1]!.events('lord').length - before[1]!).toBe(0);
  });

  it('a node without the secret is not learned and is sent nothing; forged hints are dropped', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const other = lab.secret('other', 'a different secret entirely');
    const procs = [
      lab.legiond('n1', node(0, [1], secret)),
      lab.legiond('n2', node(1, [0], secret)),
      lab.legiond('n3', node(2, [0], other)),
    ];
    await Promise.all(procs.map((p) => p.ready()));
    await converge([0, 1], 2, 'n2');
    await sleep(1500);
    const n1 = await status(0);
    expect(n1.members).toBe(2);
    expect(n1.counters.learning?.hintsDropped).toBeGreaterThan(0);
    // n1 answers n3's packets with nothing: n3 hears no datagram at all
    const n3 = await status(2);
    expect(n3.counters.packetsReceived).toBe(0);
    expect(n3.lord?.name).toBe('n3');
  });

  it('the limit on learned addresses is kept, counted and logged', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const procs = [
      lab.legiond('n1', node(0, [1], secret, ['--learned-peers-max', '1'])),
      lab.legiond('n2', node(1, [0], secret)),
      lab.legiond('n3', node(2, [0], secret)),
      lab.legiond('n4', node(3, [0], secret)),
    ];
    await Promise.all(procs.map((p) => p.ready()));
    await until(
      () => procs[0]!.lines.some((l) => l.msg?.startsWith('learned peer limit reached')),
      'limit log',
    );
    const l = (await status(0)).counters.learning!;
    expect(l.learnedPeers).toBe(1);
    expect(l.learnRefused).toBeGreaterThan(0);
    // the limit bounds where n1 sends, not whom it hears: n3 and n4 list n1 as their seed
    await converge([0], 4, 'n4');
  });

  it('--no-learn-peers sends only to the listed peers', async () => {
    lab = new Lab();
    const secret = lab.secret();
    const procs = [
      lab.legiond('n1', node(0, [1], secret, ['--no-learn-peers'])),
      lab.legiond('n2', node(1, [0], secret, ['--no-learn-peers'])),
      lab.legiond('n3', node(2, [0], secret, ['--no-learn-peers'])),
    ];
    await Promise.all(procs.map((p) => p.ready()));
    await sleep(2000);
    // n2 never hears n3: n1 does not pass n3's address on
    const n2 = await status(1);
    expect(n2.members).toBe(2);
    expect(n2.counters.learning).toBeUndefined();
  });
});
