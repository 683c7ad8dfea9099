/**
 * `npx tsx bench/learned-peers.ts [SECONDS]` (build first: it runs dist/): what peers as seeds
 * cost on the wire. Two three-node legions of real legiond processes on loopback at the default
 * timing, one where every node lists every peer with learning off, one where two nodes list only
 * the first as their seed; after SECONDS (default 20) of steady state, prints per legion the
 * datagrams each node sent per second, the hints among them, and the time the seed-only legion
 * took to see all three members. Prints figures, never asserts.
 */
import { controlRequest } from '../src/control/client.js';
import { Lab, sleep } from '../test/helpers/procs.js';

const seconds = Number(process.argv[2] ?? 20);
const BASE = 48900;

async function legion(lab: Lab, base: number, learn: boolean): Promise<string[]> {
  const secret = lab.secret(`s${base}`);
  const socks: string[] = [];
  for (let i = 0; i < 3; i++) {
    const peers = learn
      ? i === 0
        ? [`127.0.0.1:${base + 1}`]
        : [`127.0.0.1:${base}`]
      : [0, 1, 2].filter((j) => j !== i).map((j) => `127.0.0.1:${base + j}`);
    const sock = lab.path(`n${base + i}.sock`);
    socks.push(sock);
    lab.legiond(`n${base + i}`, [
      '--legion',
      'web',
      '--bind',
      `127.0.0.1:${base + i}`,
      ...peers.flatMap((p) => ['--peer', p]),
      '--valor',
      String(100 * (i + 1)),
      '--secret-file',
      secret,
      '--control',
      sock,
      ...(learn ? [] : ['--no-learn-peers']),
    ]);
  }
  return socks;
}

async function members(sock: string): Promise<number> {
  try {
    return (await controlRequest(sock, 'status')).legions[0]!.members;
  } catch {
    return 0;
  }
}

async function main(): Promise<void> {
  const lab = new Lab('legiond-bench-learn-');
  try {
    const listed = await legion(lab, BASE, false);
    const t0 = performance.now();
    const seeded = await legion(lab, BASE + 10, true);
    let joinedMs = Number.NaN;
    for (let i = 0; i < 200; i++) {
      const all = await Promise.all(seeded.map(members));
      if (all.every((m) => m === 3)) {
        joinedMs = performance.now() - t0;
        break;
      }
      await sleep(50);
    }
    const before = await Promise.all([...listed, ...seeded].map((s) => controlRequest(s, 'status')));
    await sleep(seconds * 1000);
    const after = await Promise.all([...listed, ...seeded].map((s) => controlRequest(s, 'status')));
    const rate = (i: number) => {
      const a = after[i]!.legions[0]!.counters;
      const b = before[i]!.legions[0]!.counters;
      const hints = (a.learning?.hintsSent ?? 0) - (b.learning?.hintsSent ?? 0);
      return { sent: (a.packetsSent - b.packetsSent) / seconds, hints: hints / seconds };
    };
    const row = (name: string, idx: number[]) => {
      const r = idx.map(rate);
      const sent = r.reduce((n, x) => n + x.sent, 0) / r.length;
      const hints = r.reduce((n, x) => n + x.hints, 0) / r.length;
      return `| ${name} | ${sent.toFixed(2)} | ${hints.toFixed(2)} |`;
    };
    console.log(`learned peers, 3 nodes, defaults (interval 250 ms), ${seconds} s of steady state`);
    console.log(
      '| legion | datagrams sent/s per node | hint rounds/s per node (each to every destination) |',
    );
    console.log('| --- | --- | --- |');
    console.log(row('every peer listed, learning off', [0, 1, 2]));
    console.log(row('one seed each, learning on', [3, 4, 5]));
    console.log(`seed-only legion: every node saw all 3 members ${joinedMs.toFixed(0)} ms after start`);
  } finally {
    await lab.cleanup();
  }
}

await main();
