/**
 * config/hooks/vip.sh end to end: three hosts and a client on a bridge, each in its own network
 * namespace, legiond on every host with the VIP hooks, and the client polling a name-answering
 * HTTP server through the VIP. Needs root and `ip netns`; fails (never skips) without them.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventLine, hookFinished, VipCluster } from './helpers.js';
import { requireNetns } from './topology.js';

let c: VipCluster | undefined;

function cluster(): VipCluster {
  if (!c) throw new Error('the namespace LAN was not built (see the beforeAll error)');
  return c;
}

beforeAll(async () => {
  requireNetns();
  const built = new VipCluster(1);
  try {
    await built.start();
  } catch (e) {
    await built.close();
    throw e;
  }
  c = built;
});

afterEach(async () => {
  await c?.resetHosts();
});

afterAll(async () => {
  try {
    await c?.close();
  } finally {
    c = undefined;
  }
});

describe('virtual IP hooks in network namespaces', () => {
  it('SIGKILL of the lord: the next lord adds the VIP and its gratuitous ARP moves the client', async () => {
    const k = cluster();
    await k.startLegion([300, 200, 100], 'h1');
    const killedAt = Date.now();
    const firstLord = await k.daemon('h1').waitFor(eventLine('lord', 'h1'), 5000, 'h1 lord');
    // the host's service dies with its daemon; the address stays, as after a crash
    k.daemon('h1').kill('SIGKILL');
    k.servers.get('h1')!.kill('SIGKILL');
    await k.daemon('h1').exited;

    const lord = await k.daemon('h2').waitFor(eventLine('lord', 'h2'), 5000, 'h2 to become lord');
    // with a quorum the new epoch is acknowledged by the voters first, so it may skip numbers
    expect(BigInt(lord.epoch as string)).toBeGreaterThan(BigInt(firstLord.epoch as string));
    const first = await k.waitAnswer('h2', killedAt, 8000);
    // h1's unlord hook never ran, so it still holds the address: only the ARP moved the traffic
    expect(await k.holders()).toEqual(['h1', 'h2']);
    // and the client stays with h2: back at h1 it would be refused (a timeout is only load)
    await k.poller!.waitFor(
      () => k.answers().filter((a) => a.t > first.t).length >= 10,
      5000,
      '10 more answers',
    );
    const after = k.answers().filter((a) => a.t > first.t);
    expect(after.filter((a) => (a.ok ? a.body !== 'h2' : a.err === 'ECONNREFUSED'))).toEqual([]);
    expect(after.some((a) => a.ok)).toBe(true);
    expect(k.daemon('h3').events('lord')).toHaveLength(0);

    // restarted, h1's setup hook drops the copy it never released; h2 stays lord (lower valor)
    const again = k.startLegiond('h1', 50);
    await again.waitFor(hookFinished('setup'), 20_000, "h1's setup hook");
    expect(await k.holders()).toEqual(['h2']);
  });

  it('SIGTERM of the lord: the old lord drops the VIP before the new lord adds it', async () => {
    const k = cluster();
    await k.startLegion([300, 200, 100], 'h1');
    const [h1, h2, h3] = [k.host('h1'), k.host('h2'), k.host('h3')];
    const notesBefore = k.notes().length;
    const termAt = Date.now();
    k.daemon('h1').kill('SIGTERM');

    // read the gaining host before the losing one, so two holders in a sample are a real overlap
    const samples: string[][] = [];
    for (let i = 0; i < 300; i++) {
      const s = await k.holders([h2, h3, h1]);
      samples.push(s);
      if (s.length === 1 && s[0] === 'h2' && k.daemon('h1').child.exitCode !== null) break;
    }
    const overlaps = samples.filter((s) => s.length > 1);
    expect(overlaps.length, `samples with two holders: ${JSON.stringify(overlaps.slice(0, 3))}`).toBe(0);
    expect(samples.at(-1)).toEqual(['h2']);

    expect((await k.daemon('h1').exited).code).toBe(0);
    const unlord = k.daemon('h1').lines.find(eventLine('unlord'));
    expect(unlord?.reason).toBe('shutdown');
    await k.waitAnswer('h2', termAt, 5000);

    // the hooks' own log: h1's down (written after the address was removed) comes before h2's
    // up (written before it was added)
    const notes = k.notes().slice(notesBefore);
    const down = notes.findIndex((n) => n.node === 'h1' && n.action === 'down');
    const up = notes.findIndex((n) => n.node === 'h2' && n.action === 'up');
    expect(down).toBeGreaterThanOrEqual(0);
    expect(up).toBeGreaterThan(down);
    expect(notes[up]!.t).toBeGreaterThanOrEqual(notes[down]!.t);
    expect(notes.filter((n) => n.action === 'up').map((n) => n.node)).toEqual(['h2']);
  });

  it('a partitioned lord (quorum 2 of 3) drops the VIP; the other two elect a lord that holds it', async () => {
    const k = cluster();
    // lord_delay as the README advises for VIPs: the cut-off lord's lease runs out first
    await k.startLegion([300, 200, 100], 'h1', ['--lord-delay', '500ms']);
    const h1 = k.host('h1');
    const cutAt = Date.now();
    await k.lan.isolate(h1, true);

    const unlord = await k.daemon('h1').waitFor(eventLine('unlord'), 5000, 'h1 to lose its lease');
    expect(unlord.reason).toBe('lease');
    await k.daemon('h1').waitFor(hookFinished('unlord'), 5000, "h1's unlord hook");
    await k.daemon('h2').waitFor(eventLine('lord', 'h2'), 5000, 'h2 to become lord');
    await k.daemon('h2').waitFor(hookFinished('lord'), 5000, "h2's lord hook");
    await k.waitAnswer('h2', cutAt, 5000);
    expect(await k.holders()).toEqual(['h2']);
    // alone, h1 cannot gather a quorum again
    expect(k.daemon('h1').lines.filter(eventLine('lord'))).toHaveLength(1);
  });
});
