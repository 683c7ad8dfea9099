/**
 * The Prometheus metrics, on prom-client: the maintained Node client, with the exposition format,
 * histograms and the process defaults (CPU, memory, event-loop lag, GC) already right. Values are
 * read at scrape time from each legion's view, status and counters; only hook runs are recorded
 * as they finish. Labels are bounded: legion, role, state, reason, event, outcome; never a member.
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { WorkEvent } from '../daemon/legion-work.js';
import type { TrackedLegion } from './tracked.js';

export interface MetricsSource {
  legions(): TrackedLegion[];
  /** monotonic ms */
  now(): number;
}

/** a counter whose value is kept elsewhere (the runner's counters): set at every scrape */
function setCounter(c: Counter<string>, labels: Record<string, string>, value: number): void {
  c.inc(labels, value);
}

/** bigints as numbers: exact up to 2^53, which epochs and valors reach only on purpose */
const num = (v: bigint | string) => Number(v);

export function createMetrics(src: MetricsSource): {
  registry: Registry;
  workDone(legion: string, e: WorkEvent): void;
} {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const each = (f: (t: TrackedLegion) => void) => {
    for (const t of src.legions()) f(t);
  };
  const gauge = (name: string, help: string, labelNames: string[], read: (g: Gauge<string>) => void) =>
    new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        read(this);
      },
    });
  const counter = (name: string, help: string, labelNames: string[], read: (c: Counter<string>) => void) =>
    new Counter({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        read(this);
      },
    });

  // one look per legion per scrape, shared by the gauges below
  let views = new Map<string, ReturnType<TrackedLegion['look']>>();
  let statuses = new Map<string, ReturnType<TrackedLegion['legion']['status']>>();
  const viewOf = (t: TrackedLegion) => {
    let v = views.get(t.name);
    if (!v) {
      v = t.look(src.now());
      views.set(t.name, v);
    }
    return v;
  };
  const statusOf = (t: TrackedLegion) => {
    let s = statuses.get(t.name);
    if (!s) {
      s = t.legion.status();
      statuses.set(t.name, s);
    }
    return s;
  };

  // the first collector clears the per-scrape caches: prom-client collects in registration order
  new Gauge({
    name: 'legiond_legions',
    help: 'legions running in this process',
    registers,
    collect() {
      views = new Map();
      statuses = new Map();
      this.set(src.legions().length);
    },
  });
  gauge('legiond_is_lord', '1 while this node is the lord of the legion', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, viewOf(t).lord?.self ? 1 : 0)),
  );
  gauge(
    'legiond_lord_known',
    '1 while this node knows a lord of the legion (itself or another)',
    ['legion'],
    (g) => each((t) => g.set({ legion: t.name }, viewOf(t).lord ? 1 : 0)),
  );
  gauge('legiond_epoch', 'the highest epoch (fencing token) this node knows', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, num(viewOf(t).epoch))),
  );
  gauge(
    'legiond_members',
    'live members this node sees, itself included, by role (member, arbiter, observer) and state (alive, draining)',
    ['legion', 'role', 'state'],
    (g) =>
      each((t) => {
        const counts = new Map<string, number>();
        for (const role of ['member', 'arbiter', 'observer'])
          for (const state of ['alive', 'draining']) counts.set(`${role}/${state}`, 0);
        for (const m of viewOf(t).members) {
          const k = `${m.observer ? 'observer' : m.arbiter ? 'arbiter' : 'member'}/${m.draining ? 'draining' : 'alive'}`;
          counts.set(k, (counts.get(k) ?? 0) + 1);
        }
        for (const [k, n] of counts) {
          const [role = '', state = ''] = k.split('/');
          g.set({ legion: t.name, role, state }, n);
        }
      }),
  );
  gauge('legiond_quorum', 'votes a node needs to be lord (1: no quorum)', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, viewOf(t).quorum)),
  );
  gauge('legiond_quorum_met', '1 while the votes for this node reach the quorum', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, viewOf(t).quorumMet ? 1 : 0)),
  );
  gauge('legiond_votes_for_self', 'fresh votes this node holds for itself', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, viewOf(t).votes)),
  );
  gauge(
    'legiond_valor',
    'valor: base (configured or set) and effective (less failing checks)',
    ['legion', 'kind'],
    (g) =>
      each((t) => {
        const v = viewOf(t);
        g.set({ legion: t.name, kind: 'base' }, num(v.baseValor));
        g.set({ legion: t.name, kind: 'effective' }, num(v.valor));
      }),
  );
  gauge('legiond_draining', '1 while this node has stepped down and is no candidate', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, viewOf(t).draining ? 1 : 0)),
  );
  gauge(
    'legiond_joined',
    '1 once the legion has joined (what /readyz and sd_notify READY mean)',
    ['legion'],
    (g) => each((t) => g.set({ legion: t.name }, t.joined ? 1 : 0)),
  );
  gauge(
    'legiond_last_step_age_seconds',
    "seconds since the legion's runner last stepped: grows when the event loop stalls or a runner wedges",
    ['legion'],
    (g) => each((t) => g.set({ legion: t.name }, Math.max(0, src.now() - t.lastStepAt) / 1000)),
  );
  counter(
    'legiond_event_loop_stalls_total',
    "times the legion's core found its own event loop had stalled past max(2 intervals, tolerance/2) (SIGSTOP, a long GC, a VM pause); each one drops a lease it can no longer prove",
    ['legion'],
    (c) => each((t) => setCounter(c, { legion: t.name }, viewOf(t).stalls ?? 0)),
  );
  counter(
    'legiond_lord_changes_total',
    'changes of the lord this node sees (to another node or to none), by the reason of the event that brought it',
    ['legion', 'reason'],
    (c) =>
      each((t) => {
        viewOf(t);
        for (const [reason, n] of t.lordChanges) setCounter(c, { legion: t.name, reason }, n);
      }),
  );
  counter('legiond_packets_received_total', 'UDP packets received', ['legion'], (c) =>
    each((t) => setCounter(c, { legion: t.name }, statusOf(t).counters.packetsReceived)),
  );
  counter('legiond_packets_sent_total', 'UDP packets sent', ['legion'], (c) =>
    each((t) => setCounter(c, { legion: t.name }, statusOf(t).counters.packetsSent)),
  );
  counter(
    'legiond_packets_accepted_total',
    'packets decoded, authenticated and handed to the core',
    ['legion'],
    (c) => each((t) => setCounter(c, { legion: t.name }, statusOf(t).counters.accepted)),
  );
  counter(
    'legiond_packets_dropped_total',
    "packets dropped, by the decoder's error code (ERR_AUTH, ERR_REPLAY, ...)",
    ['legion', 'reason'],
    (c) =>
      each((t) => {
        for (const [reason, n] of Object.entries(statusOf(t).counters.rejected))
          setCounter(c, { legion: t.name, reason }, n);
      }),
  );
  counter('legiond_received_bytes_total', 'UDP payload bytes received', ['legion'], (c) =>
    each((t) => setCounter(c, { legion: t.name }, statusOf(t).counters.bytesReceived)),
  );
  counter('legiond_sent_bytes_total', 'UDP payload bytes sent', ['legion'], (c) =>
    each((t) => setCounter(c, { legion: t.name }, statusOf(t).counters.bytesSent)),
  );
  gauge('legiond_workload_daemons_running', 'lord-only daemons running now', ['legion'], (g) =>
    each((t) =>
      g.set({ legion: t.name }, t.legion.workStatus().daemons.filter((d) => d.pid !== null).length),
    ),
  );
  gauge('legiond_workload_daemons', 'lord-only daemons configured', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, t.legion.workStatus().daemons.length)),
  );
  counter(
    'legiond_workload_restarts_total',
    'restarts of lord-only daemons that exited on their own (since the daemon set was last configured)',
    ['legion'],
    (c) =>
      each((t) =>
        setCounter(
          c,
          { legion: t.name },
          t.legion.workStatus().daemons.reduce((a, d) => a + d.restarts, 0),
        ),
      ),
  );
  gauge('legiond_cron_running', '1 while a lord-only cron run is going', ['legion'], (g) =>
    each((t) => g.set({ legion: t.name }, t.legion.workStatus().cronRunning ? 1 : 0)),
  );
  const hookRuns = new Counter({
    name: 'legiond_hook_runs_total',
    help: 'finished hook commands, by event and outcome (ok, failed, timeout)',
    labelNames: ['legion', 'event', 'outcome'],
    registers,
  });
  const hookDuration = new Histogram({
    name: 'legiond_hook_duration_seconds',
    help: 'how long hook commands ran, by event',
    labelNames: ['legion', 'event'],
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });
  const daemonChanges = new Counter({
    name: 'legiond_workload_daemon_changes_total',
    help: 'lord-only daemon processes started, stopped (unlord, shutdown) or exited on their own',
    labelNames: ['legion', 'change'],
    registers,
  });
  const cronRuns = new Counter({
    name: 'legiond_cron_runs_total',
    help: 'finished lord-only cron runs, by outcome (ok, failed, timeout)',
    labelNames: ['legion', 'outcome'],
    registers,
  });
  const outcomeOf = (r: { ok: boolean; timedOut: boolean }) =>
    r.ok ? 'ok' : r.timedOut ? 'timeout' : 'failed';
  return {
    registry,
    workDone(legion, e) {
      if (e.kind === 'hook') {
        hookRuns.inc({ legion, event: e.result.event, outcome: outcomeOf(e.result) });
        hookDuration.observe({ legion, event: e.result.event }, e.result.durationMs / 1000);
      } else if (e.kind === 'daemon') daemonChanges.inc({ legion, change: e.change });
      else cronRuns.inc({ legion, outcome: outcomeOf(e) });
    },
  };
}
