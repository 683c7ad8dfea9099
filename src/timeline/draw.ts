/**
 * Timeline pictures as SVG strings: lanes of coloured segments, dark bands on a lane (a lordship),
 * shaded spans across every lane (a partition, a time without a lord), labelled markers, a time
 * axis and a legend. Pure: data in, text out, no clock and no I/O, so the simulator's pictures
 * and the daemon's status page are drawn by the same code.
 */

/** lord identities are coloured in order of first appearance */
export const PALETTE = [
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
export const NO_LORD = '#eeeeee';
/** fills defined by every picture's <defs> */
export const DOWN = 'url(#down)';
export const PAUSED = 'url(#paused)';

export interface Segment {
  from: number;
  to: number;
  fill: string;
}

export interface Lane {
  label: string;
  segments: Segment[];
}

/** an outlined stretch of one lane with a dark band along its top */
export interface Band {
  lane: number;
  from: number;
  to: number;
  /** tooltip */
  title: string;
  /** written inside the band when there is room */
  text: string;
}

/** a shaded stretch across all lanes, with a strip above them */
export interface Span {
  from: number;
  to: number;
  title: string;
}

export interface Marker {
  t: number;
  text: string;
}

export interface LegendItem {
  swatch: string;
  text: string;
}

export interface Timeline {
  width: number;
  /** room for lane labels */
  left: number;
  /** the document's <title> */
  title: string;
  heading: string;
  subheading: string;
  /** the time range shown; times outside it are clamped */
  start: number;
  end: number;
  ticks: { t: number; label: string }[];
  rowH: number;
  gap: number;
  lanes: Lane[];
  bands: Band[];
  spans: Span[];
  markers: Marker[];
  /** marker labels are staggered over this many lines */
  markerLines: number;
  spanColour: string;
  legend: LegendItem[];
  /** legend items per row, 170 px apart; default 6 */
  legendColumns?: number;
  /** default: enough rows for the legend */
  legendRows?: number;
}

export function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** a tick step giving about `target` ticks over `durationMs` */
export function niceStep(durationMs: number, target = 10): number {
  const raw = durationMs / target;
  const steps = [
    100, 250, 500, 1000, 2000, 5000, 10_000, 15_000, 30_000, 60_000, 120_000, 300_000, 600_000, 900_000,
    1_800_000, 3_600_000,
  ];
  return steps.find((s) => s >= raw) ?? 3_600_000;
}

/** hands out palette colours to identities in order of first appearance */
export function colourer(): { of(id: string): string; ids(): string[] } {
  const colour = new Map<string, string>();
  return {
    of(id) {
      let c = colour.get(id);
      if (!c) {
        c = PALETTE[colour.size % PALETTE.length]!;
        colour.set(id, c);
      }
      return c;
    },
    ids: () => [...colour.keys()],
  };
}

export function drawTimeline(tl: Timeline): string {
  const { width, left, start, end, rowH, gap } = tl;
  const plotW = width - left - 20;
  const top = 64 + tl.markerLines * 13;
  const plotH = tl.lanes.length * (rowH + gap);
  const x = (t: number) => left + ((Math.max(start, Math.min(t, end)) - start) / (end - start)) * plotW;
  const legendTop = top + plotH + 40;
  const cols = tl.legendColumns ?? 6;
  const legendRows = tl.legendRows ?? Math.ceil(tl.legend.length / cols);
  const height = legendTop + 20 + legendRows * 18 + 10;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<title>${esc(tl.title)}</title>`,
    '<defs>',
    '<pattern id="down" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#d9d9d9"/><line x1="0" y1="0" x2="0" y2="6" stroke="#a0a0a0" stroke-width="2"/></pattern>',
    '<pattern id="paused" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(-45)"><rect width="6" height="6" fill="#fff3c4"/><line x1="0" y1="0" x2="0" y2="6" stroke="#e0a800" stroke-width="2"/></pattern>',
    '</defs>',
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${left}" y="20" font-size="15" font-weight="bold">${esc(tl.heading)}</text>`,
    `<text x="${left}" y="38" fill="#444">${esc(tl.subheading)}</text>`,
  );
  // spans, behind everything
  for (const p of tl.spans) {
    const w = Math.max(1, x(p.to) - x(p.from)).toFixed(1);
    out.push(
      `<rect x="${x(p.from).toFixed(1)}" y="${top - 4}" width="${w}" height="${plotH + 8}" fill="${tl.spanColour}" fill-opacity="0.12"><title>${esc(p.title)}</title></rect>`,
      `<rect x="${x(p.from).toFixed(1)}" y="${top - 9}" width="${w}" height="5" fill="${tl.spanColour}"/>`,
    );
  }
  tl.lanes.forEach((lane, s) => {
    const y = top + s * (rowH + gap);
    if (rowH >= 9)
      out.push(`<text x="${left - 8}" y="${y + rowH / 2 + 4}" text-anchor="end">${esc(lane.label)}</text>`);
    for (const g of lane.segments) {
      out.push(
        `<rect x="${x(g.from).toFixed(1)}" y="${y}" width="${Math.max(0.5, x(g.to) - x(g.from)).toFixed(1)}" height="${rowH}" fill="${g.fill}"/>`,
      );
    }
  });
  for (const c of tl.bands) {
    const y = top + c.lane * (rowH + gap);
    const w = Math.max(1, x(c.to) - x(c.from));
    const band = Math.max(2, Math.round(rowH / 4));
    out.push(
      `<rect x="${x(c.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${rowH}" fill="none" stroke="#111" stroke-width="1.2"><title>${esc(c.title)}</title></rect>`,
      `<rect x="${x(c.from).toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${band}" fill="#111"/>`,
    );
    if (rowH >= 14 && w > 40) {
      out.push(
        `<text x="${(x(c.from) + 4).toFixed(1)}" y="${y + rowH - 4}" fill="#fff" font-size="10" font-weight="bold">${esc(c.text)}</text>`,
      );
    }
  }
  tl.markers.forEach((f, i) => {
    const fx = x(f.t);
    const ly = 56 + (i % tl.markerLines) * 13;
    const text = f.text.length > 48 ? `${f.text.slice(0, 47)}…` : f.text;
    // labels near the right edge hang to the left of their line (about 6 px per character)
    const right = fx + 3 + text.length * 6 > width - 4;
    out.push(
      `<line x1="${fx.toFixed(1)}" y1="${ly + 2}" x2="${fx.toFixed(1)}" y2="${top + plotH + 4}" stroke="#333" stroke-dasharray="3,3" stroke-width="1"/>`,
      `<text x="${(right ? fx - 3 : fx + 3).toFixed(1)}" y="${ly}" fill="#222"${right ? ' text-anchor="end"' : ''}>${esc(text)}</text>`,
    );
  });
  const axisY = top + plotH + 8;
  out.push(`<line x1="${left}" y1="${axisY}" x2="${left + plotW}" y2="${axisY}" stroke="#333"/>`);
  for (const k of tl.ticks) {
    out.push(
      `<line x1="${x(k.t).toFixed(1)}" y1="${axisY}" x2="${x(k.t).toFixed(1)}" y2="${axisY + 5}" stroke="#333"/>`,
      `<text x="${x(k.t).toFixed(1)}" y="${axisY + 17}" text-anchor="middle">${esc(k.label)}</text>`,
    );
  }
  tl.legend.forEach((it, i) => {
    const lx = left + (i % cols) * 170;
    const ly = legendTop + Math.floor(i / cols) * 18;
    out.push(
      `<rect x="${lx}" y="${ly}" width="14" height="12" fill="${it.swatch}" stroke="#666" stroke-width="0.5"/>`,
      `<text x="${lx + 19}" y="${ly + 10}">${esc(it.text)}</text>`,
    );
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
