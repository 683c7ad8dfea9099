/**
 * Timeline picture of one run, as an SVG string: one row per node slot showing whom that node
 * considers lord over time (one colour per lord identity), a dark band where the node itself
 * claims the title, hatching while it is down or paused, shaded partitions, fault markers, a
 * time axis and a legend. Needs a run with `keepTrace` and `trackViews`.
 */
import { formatDuration } from './duration.js';
import type { RunResult } from './run.js';

const PALETTE = [
  '#4e79a7',
  '#f28e2b',
  '#59a14f',
  '#e15759',
  '#b07aa1',
  '#76b7b2',
  '#edc948',
  '#9c755f',
  '#ff9da7',
  '#2f4b7c',
];
const NO_LORD = '#eeeeee';

interface Segment {
  from: number;
  to: number;
  fill: string;
}

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceStep(durationMs: number, target = 10): number {
  const raw = durationMs / target;
  const steps = [
    100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
    1_800_000, 3_600_000,
  ];
  return steps.find((s) => s >= raw) ?? 3_600_000;
}

export function renderSvg(res: RunResult): string {
  const { report, trace, incarnations } = res;
  const sc = res.sim.scenario;
  const end = res.sim.now;
  const n = sc.nodes.length;
  const left = 90;
  const width = 1100;
  const plotW = width - left - 20;
  const rowH = Math.max(3, Math.min(22, Math.floor(700 / n)));
  const gap = rowH >= 10 ? 4 : 0;
  const faultLines = 3;
  const top = 64 + faultLines * 13;
  const plotH = n * (rowH + gap);
  const x = (t: number) => left + (Math.min(t, end) / end) * plotW;
  const label = new Map(incarnations.map((i) => [i.uuid, i.label]));

  // colours by first appearance of each lord identity
  const colour = new Map<string, string>();
  const colourOf = (uuid: string) => {
    let c = colour.get(uuid);
    if (!c) {
      c = PALETTE[colour.size % PALETTE.length]!;
      colour.set(uuid, c);
    }
    return c;
  };

  // per-slot segments from status and view records
  const segs: Segment[][] = Array.from({ length: n }, () => []);
  const cur = Array.from({ length: n }, () => ({ from: 0, status: 'down', lord: null as string | null }));
  const fillOf = (c: (typeof cur)[number]) =>
    c.status === 'down' || c.status === 'stopped'
      ? 'url(#down)'
      : c.status === 'paused'
        ? 'url(#paused)'
        : c.lord
          ? colourOf(c.lord)
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

  const out: string[] = [];
  const legendTop = top + plotH + 40;
  const legendItems = [...colour.keys()];
  const legendRows = Math.ceil((legendItems.length + 4) / 6);
  const height = legendTop + 20 + legendRows * 18 + 10;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<title>${esc(`${sc.name}: whom each node considers lord over time (seed ${report.seed})`)}</title>`,
    '<defs>',
    '<pattern id="down" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d9d9d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#a0a0a0" stroke-width="2"/></pattern>',
    '<pattern id="paused" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="6" height="6" fill="#fff3c4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e0a800" stroke-width="2"/></pattern>',
    '</defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
  );
  const m = report.metrics;
  out.push(
    `<text x="${left}" y="20" font-size="15" font-weight="bold">${esc(sc.name)} — seed ${report.seed}, ${n} nodes, quorum ${sc.quorum}</text>`,
    `<text x="${left}" y="38" fill="#444">${esc(
      `first lord ${m.firstLordMs === null ? 'never' : formatDuration(Math.round(m.firstLordMs))}; ${m.lordEvents} lord events; overlap ${m.overlap.count} (${formatDuration(Math.round(m.overlap.totalMs))}); lordless ${formatDuration(Math.round(m.lordless.totalMs))}; violations ${report.violationCount}`,
    )}</text>`,
  );

  // partitions, behind everything
  for (const p of partitions) {
    out.push(
      `<rect x="${x(p.from).toFixed(1)}" y="${top - 4}" width="${Math.max(1, x(p.to) - x(p.from)).toFixed(1)}" height="${plotH + 8}" fill="#e15759" fill-opacity="0.12"><title>${esc(p.text)}</title></rect>`,
      `<rect x="${x(p.from).toFixed(1)}" y="${top - 9}" width="${Math.max(1, x(p.to) - x(p.from)).toFixed(1)}" height="5" fill="#e15759"/>`,
    );
  }
  // rows
  for (let s = 0; s < n; s++) {
    const y = top + s * (rowH + gap);
    if (rowH >= 9)
      out.push(
        `<text x="${left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(sc.nodes[s]!.name)}</text>`,
      );
    for (const g of segs[s]!) {
      out.push(
        `<rect x="${x(g.from).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(g.to) - x(g.from)).toFixed(1)}" height="${rowH}" fill="${g.fill}"/>`,
      );
    }
  }
  // the lord's own row: dark band along the top, epoch written when there is room
  for (const c of claims) {
    const y = top + c.slot * (rowH + gap);
    const w = Math.max(1, x(c.to) - x(c.from));
    const band = Math.max(2, Math.round(rowH / 4));
    out.push(
      `<rect x="${x(c.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH}" fill="none" stroke="#111" stroke-width="1.2"><title>${esc(`${label.get(c.uuid) ?? c.uuid} lord, epoch ${c.epoch}`)}</title></rect>`,
      `<rect x="${x(c.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${band}" fill="#111"/>`,
    );
    if (rowH >= 14 && w > 40) {
      out.push(
        `<text x="${(x(c.from) + 4).toFixed(1)}" y="${y + rowH - 4}" fill="#fff" font-size="10" font-weight="bold">lord e${c.epoch}</text>`,
      );
    }
  }
  // fault markers with staggered labels
  faults.forEach((f, i) => {
    const fx = x(f.t);
    const ly = 56 + (i % faultLines) * 13;
    const text = f.text.length > 48 ? `${f.text.slice(0, 47)}…` : f.text;
    // labels near the right edge hang to the left of their line (about 6 px per character)
    const right = fx + 3 + text.length * 6 > width - 4;
    out.push(
      `<line x1="${fx.toFixed(1)}" y1="${ly + 2}" x2="${fx.toFixed(1)}" y2="${top + plotH + 4}" stroke="#333" stroke-dasharray="3,3" stroke-width="1"/>`,
      `<text x="${(right ? fx - 3 : fx + 3).toFixed(1)}" y="${ly}" fill="#222"${right ? ' text-anchor="end"' : ''}>${esc(text)}</text>`,
    );
  });
  // time axis
  const axisY = top + plotH + 8;
  out.push(`<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#333"/>`);
  const step = niceStep(end);
  for (let t = 0; t <= end + 1e-9; t += step) {
    out.push(
      `<line x1="${x(t).toFixed(1)}" y1="${axisY}" x2="${x(t).toFixed(1)}" y2="${axisY + 5}" stroke="#333"/>`,
      `<text x="${x(t).toFixed(1)}" y="${axisY + 17}" text-anchor="middle">${formatDuration(t)}</text>`,
    );
  }
  // legend
  const items: { swatch: string; text: string; outline?: boolean }[] = [
    ...legendItems.map((u) => ({
      swatch: colour.get(u)!,
      text: `sees ${label.get(u) ?? u.slice(0, 8)} as lord`,
    })),
    { swatch: NO_LORD, text: 'sees no lord' },
    { swatch: '#111', text: 'is lord itself (band)', outline: true },
    { swatch: 'url(#down)', text: 'down / stopped' },
    { swatch: 'url(#paused)', text: 'paused' },
  ];
  if (partitions.length > 0) items.push({ swatch: '#e15759', text: 'network partitioned (red strip)' });
  items.forEach((it, i) => {
    const lx = left + (i % 6) * 170;
    const ly = legendTop + Math.floor(i / 6) * 18;
    out.push(
      `<rect x="${lx}" y="${ly}" width="14" height="12" fill="${it.swatch}" stroke="#666" stroke-width="0.5"/>`,
      `<text x="${lx + 19}" y="${ly + 10}">${esc(it.text)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
