/** The shape of bench/results/latest.json. */
import type { CostRow, RssBaseline } from './cost.js';
import type { FailoverRow } from './failover.js';
import type { SimFailoverRow } from './sim-failover.js';
import type { SimLossRow } from './sim-loss.js';
import type { ThroughputResult } from './throughput.js';

export interface BenchMeta {
  set: 'quick' | 'long';
  startedAt: string;
  finishedAt: string;
  wallS: number;
  commit: string | null;
  dirtyTree: boolean;
  /** dist/ is what the real-process benches run; `npm run bench` rebuilds it first */
  distOlderThanSrcS: number | null;
  node: string;
  uwsgi: string | null;
  cpus: number;
  cpuModel: string;
  memGiB: number;
  loadAvgStart: number[];
  loadAvgEnd: number[];
  /** wall seconds per section (slow failover profiles overlap) */
  sectionsS: Record<string, number>;
  only: string[] | null;
}

export interface TargetCheck {
  target: string;
  subject: string;
  figure: string;
  /** null: not measured in this run */
  met: boolean | null;
  miss?: string;
  why?: string;
}

export interface BenchResults {
  meta: BenchMeta;
  targets: TargetCheck[];
  failover: FailoverRow[];
  simFailover: SimFailoverRow[];
  cost: CostRow[];
  rssBaseline: RssBaseline | null;
  throughput: ThroughputResult | null;
  simLoss: SimLossRow[];
  errors: string[];
}
