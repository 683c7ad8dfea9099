/**
 * The per-announce, per-node and memory targets of "a node should be nearly free": decode alone
 * ≤ 2 µs and decode + authenticate + step ≤ 8 µs per announce (throughput bench), ≤ 0.5 % of a
 * core and ≤ 50 MiB RSS per node at N = 50 (cost rows). The uWSGI row of the same run, when
 * there is one, is named next to each figure.
 */
import { num, pct } from './lib/format.js';
import type { BenchResults, TargetCheck } from './results.js';

const DECODE_US = 2;
const RECEIVE_US = 8;
const CPU_PCT = 0.5;
const RSS_MIB = 50;

type Results = Omit<BenchResults, 'targets'>;

function perAnnounce(r: Results, stage: string, limitUs: number, label: string): TargetCheck {
  const target = `${label} ≤ ${limitUs} µs per announce`;
  const row = r.throughput?.rows.find((x) => x.stage === stage);
  if (!row) return { target, subject: 'in process, one core', figure: 'not run', met: null };
  const met = row.usPerAnnounce <= limitUs;
  const c: TargetCheck = {
    target,
    subject: `in process, ${r.throughput!.packetBytes}-byte announces`,
    figure: `${num(row.usPerAnnounce, 2)} µs (${num(row.perSecond)}/s per core)`,
    met,
  };
  if (!met) c.miss = `by ${num(row.usPerAnnounce - limitUs, 2)} µs`;
  return c;
}

export function checkCostTargets(r: Results): TargetCheck[] {
  const out = [
    perAnnounce(r, 'decode only (insecure plaintext)', DECODE_US, 'decode alone'),
    perAnnounce(r, 'decode + authenticate + step (AES-256-GCM)', RECEIVE_US, 'decode + authenticate + step'),
  ];
  const auth = r.throughput?.rows.find((x) => x.stage === 'decode + authenticate only');
  const plain = r.throughput?.rows.find((x) => x.stage === 'decode only (insecure plaintext)');
  if (auth && plain && out[1]!.met === false) {
    out[1]!.why = `AES-256-GCM through node:crypto (a cipher object per packet) is ${num(auth.usPerAnnounce - plain.usPerAnnounce, 1)} µs of it`;
  }
  const uwsgi = r.cost.find((c) => c.impl === 'uwsgi' && c.n === 50);
  const ref =
    uwsgi?.cpuPct && uwsgi.rssMiB
      ? `; uWSGI ${uwsgi.settings}: ${pct(uwsgi.cpuPct.p50)}, ${num(uwsgi.rssMiB.p50, 1)} MiB`
      : '';
  for (const row of r.cost.filter((c) => c.impl === 'legiond' && c.n === 50)) {
    const subject = `legiond, N = 50, ${row.transport}`;
    if (!row.cpuPct || !row.rssMiB) {
      out.push({
        target: `≤ ${CPU_PCT} % of a core per node`,
        subject,
        figure: row.error ?? 'not measured',
        met: null,
      });
      continue;
    }
    const cpuMet = row.cpuPct.max <= CPU_PCT;
    out.push({
      target: `≤ ${CPU_PCT} % of a core per node`,
      subject,
      figure: `p50 ${pct(row.cpuPct.p50)}, worst ${pct(row.cpuPct.max)}${ref}`,
      met: cpuMet,
      ...(cpuMet
        ? {}
        : {
            miss: `by ${pct(row.cpuPct.max - CPU_PCT)}`,
            why: `every node takes in every announce (${num(row.pktsInPerS?.p50 ?? null)}/s) and each datagram is a wake-up: Node's per-datagram path and the kernel cost more than the decode (bench/README.md, Where the CPU goes)`,
          }),
    });
    const rssMet = row.rssMiB.max <= RSS_MIB;
    out.push({
      target: `≤ ${RSS_MIB} MiB RSS per node`,
      subject,
      figure: `p50 ${num(row.rssMiB.p50, 1)} MiB, worst ${num(row.rssMiB.max, 1)} MiB; PSS p50 ${num(row.pssMiB?.p50 ?? null, 1)} MiB${ref}`,
      met: rssMet,
      ...(rssMet
        ? {}
        : {
            miss: `by ${num(row.rssMiB.max - RSS_MIB, 1)} MiB`,
            why: `RSS counts the node binary's pages each process maps (shared by all of them); ${r.rssBaseline?.bareNodeMiB ? `an idle Node process alone is ${num(r.rssBaseline.bareNodeMiB, 1)} MiB` : 'a bare Node process is about 40 MiB'}`,
          }),
    });
  }
  return out;
}
