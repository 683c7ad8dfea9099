/**
 * Steady-state cost per node of N real daemons on loopback: CPU (utime+stime over a window),
 * resident memory, and packets and bytes per second from legiond's own counters.
 */
import { join } from 'node:path';
import type { LegionStatus } from '../src/control/results.js';
import { sleep, until } from './lib/clock.js';
import { legiondStatus, startLegiond } from './lib/legiond-node.js';
import { takePorts } from './lib/ports.js';
import { anonMiB, cpuSeconds, groupPids, pssMiB, rssMiB, ticksPerSecond } from './lib/proc-stat.js';
import { type Proc, spawnProc } from './lib/procs.js';
import { type Summary, summarize } from './lib/stats.js';
import { udpCounters } from './lib/udp-stats.js';
import { startUwsgi } from './lib/uwsgi-node.js';
import type { WorkDir } from './lib/workdir.js';

export interface CostConfig {
  id: string;
  impl: 'legiond' | 'uwsgi';
  n: number;
  transport: 'unicast' | 'multicast';
  /** settings as the table shows them */
  settings: string;
  warmupS: number;
  windowS: number;
  /** announce interval and tolerance; the implementation's defaults when absent */
  intervalMs?: number;
  toleranceMs?: number;
}

export interface CostRow extends CostConfig {
  /** percent of one core, per node */
  cpuPct: Summary | null;
  /** one clock tick over the window, in percent of a core: smaller figures read as 0 */
  cpuResolutionPct: number;
  rssMiB: Summary | null;
  /** proportional set size: shared pages (the node binary) divided among the processes sharing them */
  pssMiB?: Summary | null;
  /** anonymous resident memory: the process's own */
  anonMiB?: Summary | null;
  /** legiond's counters; null for uWSGI, which has none */
  pktsOutPerS: Summary | null;
  pktsInPerS: Summary | null;
  bytesOutPerS: Summary | null;
  bytesInPerS: Summary | null;
  /** from spawn to every node seeing all N (legiond) */
  convergeS: number | null;
  /** datagrams received over datagrams that should have arrived (from legiond's counters) */
  deliveredRatio: number | null;
  /** host-wide UDP receive-buffer overflows per second during the window (other processes included) */
  rcvbufErrorsPerS: number | null;
  error?: string;
}

interface Member {
  proc: Proc;
  control: string | null;
}

function timing(c: CostConfig): { intervalMs?: number; toleranceMs?: number } {
  return {
    ...(c.intervalMs !== undefined ? { intervalMs: c.intervalMs } : {}),
    ...(c.toleranceMs !== undefined ? { toleranceMs: c.toleranceMs } : {}),
  };
}

function startNodes(c: CostConfig, dir: string, secretFile: string): Member[] {
  const legion = `cost${Math.floor(Math.random() * 1e6)}`;
  if (c.transport === 'multicast') {
    const [port] = takePorts(1);
    const group = `239.77.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}:${port}`;
    return Array.from({ length: c.n }, (_, i) => {
      const control = join(dir, `n${i}.sock`);
      const proc = startLegiond({
        legion,
        name: `n${i}`,
        // bound to the group itself, every node can share the port and hear only the legion
        bind: group,
        multicast: { group, iface: '127.0.0.1' },
        valor: i + 1,
        secretFile,
        control,
        logFile: join(dir, `n${i}.log`),
        logLevel: 'info',
        ...timing(c),
      });
      return { proc, control };
    });
  }
  const ports = takePorts(c.n);
  const addr = (p: number) => `127.0.0.1:${p}`;
  return ports.map((port, i) => {
    const peers = ports.filter((p) => p !== port).map(addr);
    const logFile = join(dir, `n${i}.log`);
    if (c.impl === 'uwsgi') {
      const proc = startUwsgi({
        legion,
        name: `n${i}`,
        bind: addr(port),
        peers,
        valor: i + 1,
        secret: 'bench-secret',
        freqS: (c.intervalMs ?? 3000) / 1000,
        toleranceS: (c.toleranceMs ?? 15_000) / 1000,
        logFile,
      });
      return { proc, control: null };
    }
    const control = join(dir, `n${i}.sock`);
    const proc = startLegiond({
      legion,
      name: `n${i}`,
      bind: addr(port),
      peers,
      valor: i + 1,
      secretFile,
      control,
      logFile,
      logLevel: 'info',
      ...timing(c),
    });
    return { proc, control };
  });
}

/** CPU seconds of a node: for uWSGI the master and its worker. */
function nodeCpu(m: Member): number | null {
  if (m.control !== null) return cpuSeconds(m.proc.pid);
  const pids = groupPids(m.proc.pid);
  const parts = pids.map(cpuSeconds);
  return parts.some((x) => x === null) || parts.length === 0 ? null : parts.reduce((a, b) => a! + b!, 0)!;
}

function nodeRss(m: Member, read: (pid: number) => number | null = rssMiB): number | null {
  if (m.control !== null) return read(m.proc.pid);
  const parts = groupPids(m.proc.pid).map(read);
  return parts.length === 0 || parts.some((x) => x === null) ? null : parts.reduce((a, b) => a! + b!, 0)!;
}

async function statuses(ms: Member[]): Promise<(LegionStatus | null)[]> {
  return Promise.all(ms.map((m) => (m.control ? legiondStatus(m.control, 5000) : Promise.resolve(null))));
}

export async function runCost(
  c: CostConfig,
  work: WorkDir,
  log: (l: string) => void = () => undefined,
): Promise<CostRow> {
  const row: CostRow = {
    ...c,
    cpuPct: null,
    cpuResolutionPct: 100 / (ticksPerSecond() * c.windowS),
    rssMiB: null,
    pktsOutPerS: null,
    pktsInPerS: null,
    bytesOutPerS: null,
    bytesInPerS: null,
    convergeS: null,
    deliveredRatio: null,
    rcvbufErrorsPerS: null,
  };
  const members = startNodes(c, work.sub(`cost-${c.id}`), work.secretFile);
  const t0 = performance.now();
  try {
    if (c.impl === 'legiond') {
      await until(
        `${c.n} legiond nodes to see each other`,
        60_000 + c.n * 3000,
        async () => {
          const st = await statuses(members);
          return st.every((s) => s !== null && s.members === c.n) ? true : undefined;
        },
        500,
      );
      row.convergeS = (performance.now() - t0) / 1000;
    }
    await sleep(c.warmupS * 1000);
    const before = await statuses(members);
    const tb = performance.now();
    const cpu0 = members.map(nodeCpu);
    const udp0 = udpCounters();
    await sleep(c.windowS * 1000);
    const cpu1 = members.map(nodeCpu);
    const udp1 = udpCounters();
    const tc = performance.now();
    const after = await statuses(members);
    const ta = performance.now();
    const rss = members.map((m) => nodeRss(m));
    const pss = members.map((m) => nodeRss(m, pssMiB));
    const anon = members.map((m) => nodeRss(m, anonMiB));
    if (members.some((m) => !m.proc.running)) throw new Error('a node exited during the window');
    const wallS = (tc - tb) / 1000;
    if (udp0 && udp1) row.rcvbufErrorsPerS = (udp1.rcvbufErrors - udp0.rcvbufErrors) / wallS;
    row.cpuPct = summarize(cpu0.map((x, i) => ((cpu1[i]! - x!) / wallS) * 100));
    row.rssMiB = summarize(rss.map((x) => x!));
    row.pssMiB = pss.every((x) => x !== null) ? summarize(pss.map((x) => x!)) : null;
    row.anonMiB = anon.every((x) => x !== null) ? summarize(anon.map((x) => x!)) : null;
    if (c.impl === 'legiond') {
      const dt = (ta - tb) / 1000;
      const rate = (k: 'packetsSent' | 'packetsReceived' | 'bytesSent' | 'bytesReceived') =>
        summarize(before.map((b, i) => (after[i]!.counters[k] - b!.counters[k]) / dt));
      row.pktsOutPerS = rate('packetsSent');
      row.pktsInPerS = rate('packetsReceived');
      row.bytesOutPerS = rate('bytesSent');
      row.bytesInPerS = rate('bytesReceived');
      // unicast: each datagram is meant for one peer; multicast: for every member, the sender included
      const fanout = c.transport === 'multicast' ? c.n : 1;
      const sent = row.pktsOutPerS!.mean * fanout;
      row.deliveredRatio = sent > 0 ? row.pktsInPerS!.mean / sent : null;
    }
    log(
      `  ${c.id}: cpu p50 ${row.cpuPct?.p50.toFixed(2)}% max ${row.cpuPct?.max.toFixed(2)}%, rss max ${row.rssMiB?.max.toFixed(1)} MiB, pss p50 ${row.pssMiB?.p50.toFixed(1)} MiB, anon p50 ${row.anonMiB?.p50.toFixed(1)} MiB`,
    );
  } catch (e) {
    row.error = e instanceof Error ? e.message : String(e);
    log(`  ${c.id}: ${row.error}`);
  } finally {
    await Promise.all(members.map((m) => m.proc.stop(5000)));
  }
  return row;
}

export function costConfigs(long: boolean): CostConfig[] {
  const warmupS = long ? 15 : 3;
  const windowS = long ? 60 : 10;
  const legiond = (n: number, transport: 'unicast' | 'multicast'): CostConfig => ({
    id: `legiond-${transport}-${n}`,
    impl: 'legiond',
    n,
    transport,
    settings: 'defaults (250 ms / 1 s)',
    warmupS,
    windowS,
  });
  const uwsgi = (n: number): CostConfig => ({
    id: `uwsgi-unicast-${n}`,
    impl: 'uwsgi',
    n,
    transport: 'unicast',
    settings: 'defaults (3 s / 15 s)',
    // uWSGI cannot say when it has converged: give it a few steps more
    warmupS: warmupS + 9,
    windowS,
  });
  // the quick set keeps one transport at N = 10 and one uWSGI reference; the long set has them all
  return long
    ? [
        legiond(1, 'multicast'),
        legiond(10, 'multicast'),
        legiond(10, 'unicast'),
        legiond(50, 'multicast'),
        legiond(50, 'unicast'),
        uwsgi(10),
        uwsgi(50),
      ]
    : [legiond(10, 'multicast'), legiond(50, 'multicast'), legiond(50, 'unicast'), uwsgi(50)];
}

export interface RssBaseline {
  /** a Node process doing nothing */
  bareNodeMiB: number | null;
  /** a Node process that has loaded the daemon's modules and does nothing */
  daemonModulesMiB: number | null;
}

/** Where a node's resident memory comes from, for the table's explanation. */
export async function measureRssBaseline(work: WorkDir): Promise<RssBaseline> {
  const daemonJs = new URL('../dist/src/daemon/daemon.js', import.meta.url).href;
  const probe = async (name: string, code: string): Promise<number | null> => {
    const p = spawnProc(name, process.execPath, ['--input-type=module', '-e', code], {
      logFile: join(work.root, `${name}.log`),
    });
    try {
      await sleep(2000);
      return rssMiB(p.pid);
    } finally {
      await p.crash();
    }
  };
  return {
    bareNodeMiB: await probe('rss-bare', 'setTimeout(() => {}, 30000);'),
    daemonModulesMiB: await probe(
      'rss-modules',
      `await import(${JSON.stringify(daemonJs)}); setTimeout(() => {}, 30000);`,
    ),
  };
}
