/**
 * Timeline picture of one run, as an SVG string: one row per node slot showing whom that node
 * considers lord over time (one colour per lord identity), a dark band where the node itself
 * claims the title, hatching while it is down or paused, shaded partitions, fault markers, a
 * time axis and a legend. Needs a run with `keepTrace` and `trackViews`. This file turns the
 * trace into lanes and marks; src/timeline/draw.ts draws them (the status page uses it too).
 */
import {
  colourer,
  DOWN,
  drawTimeline,
  type LegendItem,
  NO_LORD,
  niceStep,
  PAUSED,
  type Segment,
} from '../src/timeline/draw.js';
import { formatDuration } from './duration.js';
import type { RunResult } from './run.js';

export function renderSvg(res: RunResult): string {
  const { report, trace, incarnations } = res;
  const sc = res.sim.scenario;
  const end = res.sim.now;
  const n = sc.nodes.length;
  const rowH = Math.max(3, Math.min(22, Math.floor(700 / n)));
  const label = new Map(incarnations.map((i) => [i.uuid, i.label]));

  const colour = colourer();

  // per-slot segments from status and view records
  const segs: Segment[][] = Array.from({ length: n }, () => []);
  const cur = Array.from({ length: n }, () => ({ from: 0, status: 'down', lord: null as string | null }));
  const fillOf = (c: (typeof cur)[number]) =>
    c.status === 'down' || c.status === 'stopped'
      ? DOWN
      : c.status === 'paused'
        ? PAUSED
        : c.lord
          ? colour.of(c.lord)
          : NO_LORD;
  const change = (slot: number, t: number, patch: Partial<(typeof cur)[number]>) => {
    const c = cur[slot]!;
    const before = fillOf(c);
    const next = { ...c, ...patch };
    if (fillOf(next) === before) {
      cur[slot] = { ...next, from: c.from };
      return;
    }
    if (t > c.from) segs[slot]!.push({ from: c.from, to: t, fill: before });
    cur[slot] = { ...next, from: t };
  };
  const claims: { slot: number; from: number; to: number; epoch: bigint; uuid: string }[] = [];
  const openClaim = new Map<number, { from: number; epoch: bigint; uuid: string }>();
  const partitions: { from: number; to: number; text: string }[] = [];
  let openPartition: { from: number; text: string } | null = null;
  const faults: { t: number; text: string }[] = [];

  for (const r of trace) {
    switch (r.kind) {
      case 'start':
        change(r.slot, r.t, { status: 'up', lord: null });
        break;
      case 'status':
        change(r.slot, r.t, { status: r.status });
        break;
      case 'view':
        change(r.slot, r.t, { lord: r.lord });
        break;
      case 'claim': {
        const o = openClaim.get(r.slot);
        if (o) {
          claims.push({ slot: r.slot, ...o, to: r.t });
          openClaim.delete(r.slot);
        }
        if (r.lord) openClaim.set(r.slot, { from: r.t, epoch: r.epoch, uuid: r.uuid });
        break;
      }
      case 'fault':
        if (r.action === 'partition' || r.action === 'heal') {
          if (openPartition) partitions.push({ ...openPartition, to: r.t });
          openPartition = r.action === 'partition' ? { from: r.t, text: r.text } : null;
        }
        if (!r.text.startsWith('scheduled')) faults.push({ t: r.t, text: r.text });
        else faults.push({ t: r.t, text: r.text.replace(/^scheduled /, '') });
        break;
      default:
        break;
    }
  }
  for (let s = 0; s < n; s++) {
    const c = cur[s]!;
    if (end > c.from) segs[s]!.push({ from: c.from, to: end, fill: fillOf(c) });
  }
  for (const [slot, o] of openClaim) claims.push({ slot, ...o, to: end });
  if (openPartition) partitions.push({ ...openPartition, to: end });

  const m = report.metrics;
  const legendItems = colour.ids();
  const legend: LegendItem[] = [
    ...legendItems.map((u) => ({
      swatch: colour.of(u),
      text: `sees ${label.get(u) ?? u.slice(0, 8)} as lord`,
    })),
    { swatch: NO_LORD, text: 'sees no lord' },
    { swatch: '#111', text: 'is lord itself (band)' },
    { swatch: DOWN, text: 'down / stopped' },
    { swatch: PAUSED, text: 'paused' },
  ];
  if (partitions.length > 0) legend.push({ swatch: '#e15759', text: 'network partitioned (red strip)' });
  const ticks: { t: number; label: string }[] = [];
  const step = niceStep(end);
  for (let t = 0; t <= end + 1e-9; t += step) ticks.push({ t, label: formatDuration(t) });
  return drawTimeline({
    width: 1100,
    left: 90,
    title: `${sc.name}: whom each node considers lord over time (seed ${report.seed})`,
    heading: `${sc.name} — seed ${report.seed}, ${n} nodes, quorum ${sc.quorum}`,
    subheading: `first lord ${m.firstLordMs === null ? 'never' : formatDuration(Math.round(m.firstLordMs))}; ${m.lordEvents} lord events; overlap ${m.overlap.count} (${formatDuration(Math.round(m.overlap.totalMs))}); lordless ${formatDuration(Math.round(m.lordless.totalMs))}; violations ${report.violationCount}`,
    start: 0,
    end,
    ticks,
    rowH,
    gap: rowH >= 10 ? 4 : 0,
    lanes: sc.nodes.map((node, s) => ({ label: node.name, segments: segs[s]! })),
    bands: claims.map((c) => ({
      lane: c.slot,
      from: c.from,
      to: c.to,
      title: `${label.get(c.uuid) ?? c.uuid} lord, epoch ${c.epoch}`,
      text: `lord e${c.epoch}`,
    })),
    spans: partitions.map((p) => ({ from: p.from, to: p.to, title: p.text })),
    markers: faults,
    markerLines: 3,
    spanColour: '#e15759',
    legend,
    // the partition entry has never counted towards the legend's height
    legendRows: Math.ceil((legendItems.length + 4) / 6),
  });
}
