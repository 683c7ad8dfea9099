/**
 * `npx tsx bench/engines-etcd.ts [K]` (build first: it runs dist/): strong mode side by side with a
 * reference run in the same run, on one real etcd on loopback.
 *
 * - Failover, K runs each (default 5): legiond with `backend: etcd` (three nodes, TTL 2 s, an
 *   attached daemon writing the workload log), from SIGTERM (clean) or SIGKILL (crash) of the
 *   lord's legiond to the next lord's daemon's first write; and the reference, three
 *   `etcdctl elect` processes (Debian's etcd-client) each starting a trivial workload when
 *   elected, from SIGINT (it resigns) or SIGKILL of the leader's etcdctl to the next workload's
 *   first write. etcdctl 3.4 has no TTL option: its session lease is 60 s, so its crash failover
 *   is measured once.
 * - Engine load: N strong-mode cores (N = 3 and 50, the daemon's LegionRunner, EngineLink and
 *   etcd client, in this process) idle for 20 s: requests per second per node.
 *
 * Prints figures, asserts nothing. Progress goes to stderr.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import pino from 'pino';
import { LegionRunner } from '../src/daemon/legion-runner.js';
import { EtcdEngineClient } from '../src/engine/etcd.js';
import { EngineLink } from '../src/engine/link.js';
import { engineMachine } from '../src/legion/engine/machine.js';
import type { EngineMessage, EngineParams, EngineState } from '../src/legion/engine/types.js';
import { engineLegions } from '../test/helpers/engine-legion.js';
import { ETCDCTL, EtcdServer } from '../test/helpers/etcd-server.js';
import { dur, table } from './lib/format.js';
import { type Summary, summarize } from './lib/stats.js';

const log = (line: string) => process.stderr.write(`${line}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function legiondFailover(kind: 'clean' | 'crash'): Promise<number> {
  const legions = engineLegions();
  try {
    const L = await legions.make({ daemon: { termMs: 0, graceMs: 1000 }, hooks: false });
    await L.startAll().catch(async (e) => {
      log(`${String(e)}\n${L.logTails(8)}\n${JSON.stringify(await L.ctl('n1', 'status', '--json'))}`);
      throw e;
    });
    await L.firstWrite('n3', 0);
    await sleep(500);
    L.proc('n3').kill(kind === 'clean' ? 'SIGTERM' : 'SIGKILL');
    const t0 = Date.now();
    const first = await L.firstWrite('n2', t0, 'the next daemon', 'daemon', 20_000);
    return first.ms - t0;
  } finally {
    await legions.cleanup();
  }
}

/** three `etcdctl elect` candidates; each starts a trivial workload (a timestamp) once elected */
async function electFailover(kind: 'clean' | 'crash'): Promise<number> {
  const etcd = new EtcdServer();
  await etcd.start();
  const procs: ChildProcess[] = [];
  const elected = new Map<ChildProcess, number>();
  try {
    const start = (name: string) => {
      const c = spawn(ETCDCTL, ['--endpoints', etcd.endpoint, 'elect', 'bench', name], {
        env: { ...process.env, ETCDCTL_API: '3' },
        stdio: ['ignore', 'pipe', 'ignore'],
      });
      c.stdout?.once('data', () => {
        // the trivial workload: one process that records when it ran
        const script = 'echo $' + '{EPOCHREALTIME/./}';
        const w = spawn('bash', ['-c', script], { stdio: ['ignore', 'pipe', 'ignore'] });
        w.stdout?.once('data', (b: Buffer) => elected.set(c, Number(b.toString().trim()) / 1000));
      });
      procs.push(c);
      return c;
    };
    const first = start('n1');
    const deadline = Date.now() + 10_000;
    while (!elected.has(first)) {
      if (Date.now() > deadline) throw new Error('etcdctl elect: n1 was never elected');
      await sleep(20);
    }
    const rest = [start('n2'), start('n3')];
    await sleep(1000);
    first.kill(kind === 'clean' ? 'SIGINT' : 'SIGKILL');
    const t0 = Date.now();
    const limit = Date.now() + 90_000;
    for (;;) {
      const next = rest.find((c) => elected.has(c));
      if (next) return elected.get(next)! - t0;
      if (Date.now() > limit) throw new Error('etcdctl elect: no successor within 90 s');
      await sleep(10);
    }
  } finally {
    for (const c of procs) c.kill('SIGKILL');
    await etcd.cleanup();
  }
}

async function engineLoad(n: number, seconds: number): Promise<{ perNode: number; lords: number }> {
  const etcd = new EtcdServer();
  await etcd.start();
  const runners: LegionRunner<EngineState, EngineMessage>[] = [];
  const links: EngineLink[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const link = new EngineLink(
        'etcd',
        new EtcdEngineClient({
          endpoints: [etcd.endpoint],
          prefix: '/bench',
          legion: 'load',
          callTimeoutMs: 2500,
        }),
      );
      const params: EngineParams = {
        legion: 'load',
        uuid: randomUUID(),
        name: `n${i}`,
        valor: BigInt(i + 1),
        quorum: 1,
        intervalMs: 250,
        toleranceMs: 1000,
        jitter: 0,
        preempt: true,
        preemptDelayMs: 0,
        lordDelayMs: 0,
        scroll: new Uint8Array(0),
        initialEpoch: 0n,
        engine: { ttlMs: 5000 },
      };
      const r = new LegionRunner<EngineState, EngineMessage>({
        params,
        machine: engineMachine,
        codec: {
          encode: () => new Uint8Array(0),
          decode: () => {
            throw new Error('no bytes');
          },
        },
        transport: link,
        logger: pino({ level: 'silent' }),
        holdTimeoutMs: 1000,
        sink: { onEvent: () => {}, drained: async () => {} },
      });
      runners.push(r);
      links.push(link);
      r.start();
    }
    // settle, then count requests over the window
    await sleep(8000);
    const before = links.reduce((a, l) => a + l.stats().packetsSent, 0);
    await sleep(seconds * 1000);
    const after = links.reduce((a, l) => a + l.stats().packetsSent, 0);
    const lords = runners.filter((r) => r.view().self.lord).length;
    return { perNode: (after - before) / seconds / n, lords };
  } finally {
    for (const r of runners) await r.close();
    await etcd.cleanup();
  }
}

function row(label: string, s: Summary | null, note = ''): string[] {
  return [label, String(s?.n ?? 0), dur(s?.p50), dur(s?.p95), dur(s?.max), note];
}

async function main(): Promise<void> {
  const k = Number(process.argv[2] ?? 5);
  const samples: Record<string, number[]> = {};
  const add = (key: string, v: number) => {
    const list = samples[key] ?? [];
    list.push(v);
    samples[key] = list;
  };
  const errors: string[] = [];
  // a run that fails to set up (a start slower than the helpers' bounds on a loaded machine) is
  // retried, and listed under the tables
  const attempt = async (what: string, f: () => Promise<number>): Promise<number> => {
    for (let tries = 1; ; tries++) {
      try {
        return await f();
      } catch (e) {
        errors.push(`${what}: ${String(e).split('\n')[0]}`);
        log(`${what}: failed (${tries}), ${String(e).split('\n')[0]}`);
        if (tries >= 3) throw e;
      }
    }
  };
  for (let i = 0; i < k; i++) {
    for (const kind of ['clean', 'crash'] as const) {
      const ms = await attempt(`legiond ${kind}`, () => legiondFailover(kind));
      add(`legiond-${kind}`, ms);
      log(`legiond ${kind} #${i + 1}: ${Math.round(ms)} ms`);
      if (kind === 'clean' || i === 0) {
        const ref = await attempt(`etcdctl elect ${kind}`, () => electFailover(kind));
        add(`elect-${kind}`, ref);
        log(`etcdctl elect ${kind} #${i + 1}: ${Math.round(ref)} ms`);
      }
    }
  }
  const rows = [
    row('legiond backend etcd, clean stop (SIGTERM)', summarize(samples['legiond-clean'] ?? [])),
    row('etcdctl elect, clean (SIGINT: resign)', summarize(samples['elect-clean'] ?? [])),
    row('legiond backend etcd, crash (SIGKILL), TTL 2 s', summarize(samples['legiond-crash'] ?? [])),
    row(
      'etcdctl elect, crash (SIGKILL), session TTL 60 s',
      summarize(samples['elect-crash'] ?? []),
      'no TTL option',
    ),
  ];
  console.log("Failover: the fault to the next lord's workload's first write");
  console.log(table(['', 'runs', 'p50', 'p95', 'max', 'notes'], rows));
  const load: string[][] = [];
  for (const n of [3, 50]) {
    log(`engine load, N = ${n}`);
    const r = await engineLoad(n, 20);
    load.push([`N = ${n}`, r.perNode.toFixed(2), String(r.lords)]);
  }
  console.log('\nEngine load while idle (TTL 5 s): etcd requests per second per node');
  console.log(table(['legion', 'requests/s per node', 'lords'], load));
  if (errors.length > 0)
    console.log(`\nRuns retried: ${errors.length}\n${errors.map((e) => `- ${e}`).join('\n')}`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
