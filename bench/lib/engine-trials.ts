/**
 * The measurements of bench/engines.ts for one subject:
 *
 * - failover: three members, each reaching the engine through its own TcpProxy; K times, the
 *   member whose workload runs is stopped cleanly (SIGTERM), crashed (SIGKILL of its process
 *   group, workload included) or cut off (its proxy silently drops everything: a half-open
 *   connection, as when a host's network dies), and the failover is the time
 *   from the signal to the first write of another member's workload (the same wall clock: the
 *   workload stamps CLOCK_REALTIME). The member is then started again and the legion left to
 *   settle. The workload log also gives the most workloads seen at once over the whole run.
 * - load: N members, steady state, the engine's request counter over a window, per member.
 */

import { TcpProxy } from '../../test/helpers/pg-proxy.js';
import { WorkloadLog } from '../../test/helpers/workload.js';
import { sleep, until, wallMs } from './clock.js';
import type { Subject } from './engine-subjects.js';
import type { Proc } from './procs.js';

export type Kind = 'clean' | 'crash' | 'cut';

export interface FailoverResult {
  clean: number[];
  crash: number[];
  cut: number[];
  /** cut trials: ms the cut-off member's workload ran on after another member's had started */
  cutOverrunMs: number[];
  /** trials where no other member took over within the bound */
  timeouts: Record<Kind, number>;
  maxConcurrency: number;
  overlapMs: number;
  /** distinct epochs seen, in order (empty for subjects without a token) */
  epochs: string[];
  epochsIncrease: boolean;
  errors: string[];
}

const SETTLE_MS = 2000;
/** a workload writes every ~20 ms: a member is "running it" if it wrote this recently */
const FRESH_MS = 300;

export async function failover(
  s: Subject,
  dir: string,
  k: number,
  enginePort: number,
  log: (line: string) => void,
): Promise<FailoverResult> {
  const work = new WorkloadLog(dir);
  const names = ['n1', 'n2', 'n3'];
  const procs = new Map<string, Proc>();
  const proxies = new Map<string, TcpProxy>();
  for (const n of names) proxies.set(n, await TcpProxy.start(enginePort));
  const start = (name: string) => procs.set(name, s.spawn(name, work.daemon(), dir, proxies.get(name)!.port));
  const out: FailoverResult = {
    clean: [],
    crash: [],
    cut: [],
    cutOverrunMs: [],
    timeouts: { clean: 0, crash: 0, cut: 0 },
    maxConcurrency: 0,
    overlapMs: 0,
    epochs: [],
    epochsIncrease: true,
    errors: [],
  };
  const holder = (): string | undefined => {
    const ls = work.lines();
    const last = ls[ls.length - 1];
    return last && wallMs() - last.ms < FRESH_MS ? last.node : undefined;
  };
  try {
    for (const n of names) start(n);
    const kinds: Kind[] = [];
    for (let i = 0; i < k; i++) kinds.push('clean');
    for (let i = 0; i < (s.crashTrials ?? k); i++) kinds.push('crash');
    for (let i = 0; i < (s.crashTrials ?? k); i++) kinds.push('cut');
    for (const [i, kind] of kinds.entries()) {
      const h = await until(`${s.id}: a running workload`, 60_000, holder, 20);
      await sleep(SETTLE_MS);
      const h2 = holder();
      if (h2 !== h) {
        // a hand-over nobody asked for (a restarted member taking over): measure from the new one
        log(`${s.id}: holder moved from ${h} to ${h2 ?? 'nobody'} while settling`);
      }
      const victim = h2 ?? h;
      const p = procs.get(victim)!;
      const t0 = wallMs();
      if (kind === 'clean') p.signal('SIGTERM');
      else if (kind === 'crash') p.signalGroup('SIGKILL');
      else proxies.get(victim)!.cut();
      const bound = kind === 'crash' ? s.crashBoundMs : kind === 'cut' ? s.cutBoundMs : 30_000;
      try {
        const next = await until(
          `${s.id}: ${kind} failover`,
          bound,
          () => {
            const l = work.lines().find((x) => x.ms > t0 && x.node !== victim);
            return l;
          },
          5,
        );
        const ms = next.ms - t0;
        out[kind].push(ms);
        if (kind === 'cut') {
          // the cut-off member's own workload: how long after its successor's first write it wrote
          await sleep(1000);
          const last = work
            .lines()
            .filter((l) => l.node === victim && l.ms > t0)
            .at(-1);
          out.cutOverrunMs.push(last ? Math.max(0, last.ms - next.ms) : 0);
        }
        log(`${s.id}: ${kind} ${i + 1}/${kinds.length}: ${victim} -> ${next.node} in ${ms.toFixed(1)} ms`);
      } catch (e) {
        out.timeouts[kind]++;
        out.errors.push(String(e));
        log(`${s.id}: ${kind}: ${e}`);
      }
      if (kind === 'cut') proxies.get(victim)!.heal();
      if (kind === 'clean' && !(await p.waitExit(10_000)))
        out.errors.push(`${victim} did not exit on SIGTERM`);
      await p.stop(2000);
      start(victim);
    }
  } finally {
    await Promise.all([...procs.values()].map((p) => p.stop(5000)));
    await Promise.all([...proxies.values()].map((p) => p.close()));
  }
  const a = work.analyze({ spans: false });
  out.maxConcurrency = a.maxConcurrency;
  out.overlapMs = a.overlapMs;
  out.epochs = a.epochs.map(String);
  out.epochsIncrease = a.epochsIncrease;
  return out;
}

export interface LoadResult {
  n: number;
  /** engine requests per second per member */
  perNode: number;
  windowMs: number;
}

export async function load(
  s: Subject,
  dir: string,
  n: number,
  windowMs: number,
  warmMs: number,
): Promise<LoadResult> {
  const procs = s.spawnLoad(n, dir);
  try {
    await sleep(warmMs);
    for (const p of procs) if (!p.running) throw new Error(`${s.id}: a load member exited (see ${dir})`);
    const c0 = await s.requests();
    const t0 = performance.now();
    await sleep(windowMs);
    const c1 = await s.requests();
    const dt = performance.now() - t0;
    return { n, perNode: (c1 - c0) / (dt / 1000) / n, windowMs: dt };
  } finally {
    await Promise.all(procs.map((p) => p.stop(5000)));
  }
}
