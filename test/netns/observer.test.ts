/**
 * An observer in a partition, with real processes on a namespace LAN: three voters (quorum 2)
 * and one observer. The lord is cut off from the other two voters but still reaches the
 * observer, which reaches everyone. A voting node in the observer's place (an arbiter) would
 * keep the cut-off lord at two votes beside the others' new lord; an observer must not: the
 * lord steps down on its lease, one lord at a time, and the observer follows the new lord.
 */
import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { controlRequest } from '../../src/control/client.js';
import { Lab, LEGIOND, Proc, requireBuild } from '../helpers/procs.js';
import { Lan, type Node, requireNetns } from './topology.js';

const PORT = 4242;
let lan: Lan | null = null;
let lab: Lab | null = null;
const onExit = () => lan?.destroy();

afterEach(async () => {
  await lab?.cleanup();
  lan?.destroy();
  process.off('exit', onExit);
  lan = null;
  lab = null;
});

function start(l: Lab, net: Lan, h: Node, valor: number | null, secret: string): Proc {
  const peers = net.hosts.filter((o) => o !== h).flatMap((o) => ['--peer', `${o.addr}:${PORT}`]);
  const args = [
    LEGIOND,
    '--legion',
    'web',
    '--bind',
    `${h.addr}:${PORT}`,
    ...peers,
    ...(valor === null ? ['--observer'] : ['--valor', String(valor)]),
    '--node-name',
    h.name,
    '--quorum',
    '2',
    '--secret-file',
    secret,
    '--control',
    l.path(`${h.name}.sock`),
    '--log-level',
    'debug',
  ];
  const child = spawn('ip', ['netns', 'exec', h.ns, process.execPath, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const p = new Proc(h.name, child);
  l.procs.push(p);
  return p;
}

describe('an observer in a partition (network namespaces)', () => {
  it('never keeps a cut-off lord in office beside a new one', async () => {
    requireNetns();
    requireBuild();
    lan = new Lan(57, 4, 'lgo');
    process.on('exit', onExit);
    lan.create();
    lab = new Lab('legiond-observer-');
    const secret = lab.secret();
    const [h1, h2, h3, h4] = lan.hosts as [Node, Node, Node, Node];
    const d3 = start(lab, lan, h3, 300, secret);
    await d3.waitFor((l) => l.event === 'setup', 20_000, 'h3 to start');
    const d1 = start(lab, lan, h1, 100, secret);
    const d2 = start(lab, lan, h2, 200, secret);
    const d4 = start(lab, lan, h4, null, secret);
    await d3.waitEvent('lord', 20_000);
    await d4.waitFor((l) => l.event === 'node-joined' && l.member === 'h3', 20_000, 'the observer to see h3');

    // h3 hears only the observer from now on; h1, h2 and the observer still hear each other
    for (const other of [h1, h2]) {
      await lan.exec(h3, ['iptables', '-I', 'INPUT', '-s', other.addr, '-j', 'DROP']);
      await lan.exec(h3, ['iptables', '-I', 'OUTPUT', '-d', other.addr, '-j', 'DROP']);
    }
    const unlord = await d3.waitEvent('unlord', 8000);
    expect(unlord.reason).toBe('lease');
    const lord2 = await d2.waitEvent('lord', 8000);
    // the old lord's lease ran out, by its own clock, before the new lord took office
    const t = (l: Record<string, unknown>) => Number(l.time);
    expect(t(lord2)).toBeGreaterThanOrEqual(t(unlord));
    // a second lordship for h3 would need a vote from someone: the observer gives none
    await new Promise((r) => setTimeout(r, 3000));
    expect(d3.events('lord')).toHaveLength(1);
    expect(d4.events('lord')).toHaveLength(0);
    expect(d1.events('lord')).toHaveLength(0);
    const seen = await controlRequest(lab.path('h4.sock'), 'status');
    expect(seen.legions[0]?.lord?.name).toBe('h2');
  });
});
