/**
 * The faults of the "exactly one runner" tests (test/daemon/one-runner*.test.ts) as measurements:
 * each builds a fresh three-node legion whose lord-only work is test/helpers/workload.ts, applies
 * its fault once and reports what the workloads' own log shows. Nothing here asserts.
 */
import { writeFileSync } from 'node:fs';
import { Lab, type Proc } from '../../test/helpers/procs.js';
import {
  type AnalyzeOptions,
  checkOneRunner,
  describeAnalysis,
  killLeftovers,
  nodeYaml,
  WorkLegion,
  type WorkLegionInit,
  type WorkLine,
} from '../../test/helpers/workload.js';
import { sleep } from './clock.js';
import { takePorts } from './ports.js';

export interface FaultRun {
  maxConcurrency: number;
  overlapMs: number;
  /** fault to the first write of the next lordship's workload; null when the fault hands nothing over */
  failoverMs: number | null;
  /** epoch order, run vs lordship, unlord vs lord epoch, second lord hooks */
  epochIssues: number;
  leftovers: number;
  /** what else happened, for the notes column (exit codes, events a reload caused) */
  note?: string;
}

export interface Fault {
  id: string;
  label: string;
  run(): Promise<FaultRun>;
}

/** labs and legions alive now, killed by `killAllLabs` whatever happens to the bench */
const live = new Set<{ lab: Lab; legion: WorkLegion }>();

export function killAllLabs(): void {
  for (const { lab, legion } of live) {
    for (const p of lab.procs) p.kill('SIGKILL');
    killLeftovers(legion.w.log);
  }
}

async function withLegion(
  o: Omit<WorkLegionInit, 'base'>,
  extraPorts: number,
  f: (
    L: WorkLegion,
    spare: number[],
  ) => Promise<{ t0: number | null; first: WorkLine | null; analyze?: AnalyzeOptions; note?: string }>,
): Promise<FaultRun> {
  const n = o.valors?.length ?? 3;
  const ports = takePorts(n + extraPorts);
  const lab = new Lab('legiond-bench-overlap-');
  const L = new WorkLegion(lab, { ...o, base: ports[0]! });
  const entry = { lab, legion: L };
  live.add(entry);
  try {
    const r = await f(L, ports.slice(n));
    const { a, leftovers } = await L.finish(r.analyze ?? {});
    const problems = checkOneRunner(a, leftovers);
    if (problems.length > 0 && process.env.BENCH_VERBOSE === '1')
      process.stderr.write(`${problems.join('\n')}\n${describeAnalysis(a)}\n`);
    return {
      maxConcurrency: a.maxConcurrency,
      overlapMs: a.overlapMs,
      failoverMs: r.t0 !== null && r.first !== null ? r.first.ms - r.t0 : null,
      epochIssues:
        a.epochViolations.length +
        a.spanEpochMismatches.length +
        a.unlordEpochMismatches.length +
        a.doubleStarts.length +
        a.outsideSpan.length,
      leftovers: leftovers.length,
      ...(r.note !== undefined ? { note: r.note } : {}),
    };
  } finally {
    killLeftovers(L.w.log);
    live.delete(entry);
    await lab.cleanup();
  }
}

const slow = { termMs: 300, graceMs: 3000 };
const notN3Before = (t: number) => (s: { node: string; startMs: number }) => s.node === 'n3' && s.startMs < t;

/** lord n3 hands over to n2 on `fault`; failover = fault to n2's first daemon write */
function handover(
  id: string,
  label: string,
  o: Omit<WorkLegionInit, 'base'>,
  fault: (L: WorkLegion) => Promise<void>,
): Fault {
  return {
    id,
    label,
    run: () =>
      withLegion(o, 0, async (L) => {
        await L.startAll();
        await L.firstWrite('n3', 0);
        const t0 = Date.now();
        await fault(L);
        return { t0, first: await L.firstWrite('n2', t0) };
      }),
  };
}

const ctl = async (L: WorkLegion, node: string, ...args: string[]) => {
  const r = await L.ctl(node, ...args);
  if (r.code !== 0) throw new Error(`legionctl ${args.join(' ')}: ${r.stderr.trim()}`);
};

export function overlapFaults(): Fault[] {
  return [
    {
      id: 'kill9',
      label: 'kill -9 of the lord, then its restart',
      run: () =>
        withLegion({ daemon: { termMs: 0 } }, 0, async (L) => {
          await L.startAll();
          await L.firstWrite('n3', 0);
          const t0 = Date.now();
          L.proc('n3').kill('SIGKILL');
          const first = await L.firstWrite('n2', t0);
          const t1 = Date.now();
          L.start('n3');
          await L.firstWrite('n3', t1, 'the restarted n3 daemon');
          return { t0, first, analyze: { ignoreSpan: notN3Before(t0) } };
        }),
    },
    {
      id: 'stepdown-2s',
      label: 'stepdown --for 500ms, daemon 2 s to exit (failover: to the next daemon, on n2 or n3 again)',
      run: () =>
        withLegion({ daemon: { termMs: 2000, graceMs: 3000 } }, 0, async (L) => {
          await L.startAll();
          await L.firstWrite('n3', 0);
          const t0 = Date.now();
          await ctl(L, 'n3', 'stepdown', 'web', '--for', '500ms');
          const first = await L.waitNew((l) => l.kind === 'daemon', t0, 'the next daemon', 20_000);
          if (first.node === 'n2') await L.firstWrite('n3', first.ms, 'n3 daemon again', 'daemon', 20_000);
          return { t0, first, note: `next daemon on ${first.node}` };
        }),
    },
    handover('stepdown', 'stepdown, daemon 300 ms to exit', { daemon: slow }, (L) =>
      ctl(L, 'n3', 'stepdown', 'web', '--for', '30s'),
    ),
    {
      id: 'preempt',
      label: 'preemption by a better node',
      run: () =>
        withLegion({ daemon: slow }, 0, async (L) => {
          await L.startAll(['n1', 'n2']);
          await L.firstWrite('n2', 0);
          const t0 = Date.now();
          L.start('n3');
          return { t0, first: await L.firstWrite('n3', t0) };
        }),
    },
    handover('valor', 'legionctl valor set lowering the lord', { daemon: slow }, (L) =>
      ctl(L, 'n3', 'valor', 'set', 'web', '50'),
    ),
    (() => {
      let flag = '';
      return handover(
        'check',
        'a failing valor check',
        {
          daemon: slow,
          tweak: (s) => {
            if (s.name === 'n3') flag = `${s.control}.fail`;
            s.checks = [{ command: `test ! -e ${s.control}.fail`, weight: 250 }];
          },
        },
        async () => writeFileSync(flag, ''),
      );
    })(),
    {
      id: 'lease',
      label: 'quorum lease loss (2 of 3, others SIGSTOPped until the lord unlords)',
      run: () =>
        withLegion({ daemon: slow, quorum: 2 }, 0, async (L) => {
          await L.startAll();
          await L.firstWrite('n3', 0);
          const m3 = L.proc('n3').mark();
          const t0 = Date.now();
          L.proc('n1').kill('SIGSTOP');
          L.proc('n2').kill('SIGSTOP');
          await L.proc('n3').waitEvent('unlord', 10_000, m3);
          L.proc('n1').kill('SIGCONT');
          L.proc('n2').kill('SIGCONT');
          return { t0, first: await L.waitNew((l) => l.kind === 'daemon', t0, 'the next daemon', 20_000) };
        }),
    },
    {
      id: 'cron-pause',
      label: 'lord SIGSTOPped 30 ms before a cron tick (quorum 2)',
      run: () =>
        withLegion({ quorum: 2, cron: { schedule: '*/2 * * * * *', runMs: 300 } }, 0, async (L) => {
          await L.startAll();
          await L.firstWrite('n3', 0, 'a cron run', 'cron', 15_000);
          const tick = Math.ceil((Date.now() + 230) / 2000) * 2000;
          await sleep(tick - 30 - Date.now());
          const m3 = L.proc('n3').mark();
          const t0 = Date.now();
          L.proc('n3').kill('SIGSTOP');
          const first = await L.firstWrite('n2', t0, 'a cron run', 'cron', 15_000);
          const t1 = Date.now();
          L.proc('n3').kill('SIGCONT');
          await L.proc('n3').waitEvent('lord', 15_000, m3);
          await L.firstWrite('n3', t1, 'a cron run', 'cron', 15_000);
          return { t0, first, analyze: { ignoreSpan: notN3Before(t0) } };
        }),
    },
    {
      id: 'pause-5s',
      label: 'lord SIGSTOPped for 5 s (quorum 2)',
      run: () =>
        withLegion({ quorum: 2, daemon: slow }, 0, async (L) => {
          await L.startAll();
          await L.firstWrite('n3', 0);
          const m3 = L.proc('n3').mark();
          const t0 = Date.now();
          L.proc('n3').kill('SIGSTOP');
          const first = await L.firstWrite('n2', t0);
          await sleep(5000 - (Date.now() - t0));
          const t1 = Date.now();
          L.proc('n3').kill('SIGCONT');
          await L.proc('n3').waitEvent('lord', 20_000, m3);
          await L.firstWrite('n3', t1, 'its daemon again', 'daemon', 20_000);
          return { t0, first, analyze: { ignoreSpan: notN3Before(t0) } };
        }),
    },
    {
      id: 'reload-peers',
      label: 'SIGHUP with a changed peers list on the lord',
      run: () =>
        withLegion({ daemon: { termMs: 0 } }, 1, async (L, [spare]) => {
          await L.startAll();
          await L.firstWrite('n3', 0);
          const n3 = L.proc('n3');
          L.node('n3').spec.peers.push(spare!);
          L.write('n3');
          const m = n3.mark();
          n3.kill('SIGHUP');
          await n3.waitFor((l) => /SIGHUP/.test(String(l.msg)), 10_000, 'the reload', m);
          await sleep(1500);
          const events = n3.lines
            .slice(m)
            .filter((l) => (l.event === 'lord' || l.event === 'unlord') && !('command' in l)).length;
          return { t0: null, first: null, note: `${events} lord/unlord events` };
        }),
    },
    duplicate('dup-port', 'a second legiond on the lord UDP port', 'port'),
    duplicate('dup-socket', 'a second legiond on the lord control socket', 'socket'),
  ];
}

/** a second legiond, with the same lord-only work, on a resource n3 holds: it should exit 2 */
function duplicate(id: string, label: string, what: 'port' | 'socket'): Fault {
  return {
    id,
    label,
    run: () =>
      withLegion({ daemon: { termMs: 0 } }, 1, async (L, [spare]) => {
        await L.startAll();
        await L.firstWrite('n3', 0);
        const n3 = L.node('n3');
        const file = L.lab.path('dup.yaml');
        writeFileSync(
          file,
          nodeYaml({
            ...n3.spec,
            name: 'dup',
            valor: 1000,
            stateDir: L.lab.path('state-dup'),
            control: what === 'socket' ? n3.spec.control : L.lab.path('dup.sock'),
            port: what === 'port' ? n3.port : spare!,
          }),
        );
        const p: Proc = L.lab.legiond('dup', ['--config', file]);
        const exit = await Promise.race([p.exited, sleep(5000).then(() => null)]);
        p.kill('SIGTERM');
        await Promise.race([p.exited, sleep(5000)]);
        p.kill('SIGKILL');
        return { t0: null, first: null, note: exit ? `exit ${exit.code ?? exit.signal}` : 'kept running' };
      }),
  };
}
