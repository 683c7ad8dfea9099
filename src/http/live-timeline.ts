/**
 * The status page's picture of a legion's last hour, from its history ring and its current view:
 * a lane for whom this node saw as lord, a lane per member (present, gone, a dark band while it
 * was lord), red spans while no lord was known, and a marker per event. Drawn by the simulator's
 * drawing code (src/timeline/draw.ts). Pure: the clock comes in as `now`.
 */
import {
  type Band,
  colourer,
  DOWN,
  drawTimeline,
  type Lane,
  type LegendItem,
  type Marker,
  NO_LORD,
  niceStep,
  type Segment,
  type Span,
} from '../timeline/draw.js';
import type { Before, HistoryEntry } from './history.js';

export interface LiveTimelineInput {
  legion: string;
  self: { uuid: string; name: string };
  /** wall-clock ms */
  now: number;
  windowMs: number;
  /** wall-clock ms the legion started running in this process */
  startedAt: number;
  entries: HistoryEntry[];
  before: Before;
  /** live members now, self included */
  members: { uuid: string; name: string }[];
}

const PRESENT = '#dfe5ec';
const NO_LORD_SPAN = '#e15759';
/** beyond this, the oldest lanes of members no longer present are left out */
export const MAX_LANES = 40;
/** the newest markers only, so labels stay readable */
export const MAX_MARKERS = 60;
/** the shortest stretch of time a picture shows */
export const MIN_SPAN_MS = 15_000;

export function markerText(e: HistoryEntry): string {
  switch (e.kind) {
    case 'lord-changed':
      return e.lord ? `lord ${e.lord.name} e${e.epoch}` : 'no lord';
    case 'node-joined':
      return `${e.member.name} joined`;
    case 'node-left':
      return `${e.member.name} left${e.reason ? ` (${e.reason})` : ''}`;
    case 'join':
      return 'quorum reached';
    case 'hook':
      return `hook ${e.event} ${e.outcome}${e.outcome === 'failed' && e.exitCode !== null ? ` (exit ${e.exitCode})` : ''}`;
  }
}

/** "-45m", "-30s", "now" */
export function ago(ms: number): string {
  if (ms <= 0) return 'now';
  if (ms >= 60_000) return `-${Math.round(ms / 60_000)}m`;
  return `-${Math.round(ms / 1000)}s`;
}

export function liveTimelineSvg(i: LiveTimelineInput): string {
  const end = i.now;
  // a young legion is shown since it started, so its first minutes are not a sliver at the edge
  const start = Math.max(end - i.windowMs, Math.min(i.startedAt, end - MIN_SPAN_MS));
  const from = Math.max(start, i.startedAt);
  const colour = colourer();

  // whom this node saw as lord, change by change
  const lordSegs: Segment[] = [];
  const bandsBy: { uuid: string; name: string; epoch: string; from: number; to: number }[] = [];
  const spans: Span[] = [];
  let lord = i.before.lord ?? null;
  let lordEpoch = i.before.lordEpoch ?? '?';
  let since = from;
  const lordNames = new Map<string, string>();
  const close = (t: number) => {
    if (lord) lordNames.set(lord.uuid, lord.name);
    if (t <= since) return;
    lordSegs.push({ from: since, to: t, fill: lord ? colour.of(lord.uuid) : NO_LORD });
    if (lord) bandsBy.push({ ...lord, epoch: lordEpoch, from: since, to: t });
    else spans.push({ from: since, to: t, title: 'no lord known' });
  };
  for (const e of i.entries) {
    if (e.kind !== 'lord-changed') continue;
    close(e.at);
    lord = e.lord;
    lordEpoch = e.epoch;
    since = Math.max(from, e.at);
  }
  close(end);

  // members: who was there when, from joins and leaves
  const names = new Map<string, string>();
  const events = new Map<string, HistoryEntry[]>();
  for (const [uuid, name] of i.before.present) names.set(uuid, name);
  for (const e of i.entries) {
    if (e.kind !== 'node-joined' && e.kind !== 'node-left') continue;
    names.set(e.member.uuid, e.member.name);
    const list = events.get(e.member.uuid);
    if (list) list.push(e);
    else events.set(e.member.uuid, [e]);
  }
  const live = new Set(i.members.map((m) => m.uuid));
  for (const m of i.members) names.set(m.uuid, m.name);
  // self first, then the live members by name, then those gone, by name
  const order = [...names.keys()].sort((a, b) => {
    if (a === i.self.uuid || b === i.self.uuid) return a === i.self.uuid ? -1 : 1;
    if (live.has(a) !== live.has(b)) return live.has(a) ? -1 : 1;
    return (names.get(a) ?? '').localeCompare(names.get(b) ?? '') || a.localeCompare(b);
  });
  const lanes: Lane[] = [{ label: `lord seen by ${i.self.name}`, segments: lordSegs }];
  const laneOf = new Map<string, number>();
  for (const uuid of order.slice(0, MAX_LANES)) {
    const evs = events.get(uuid) ?? [];
    const first = evs[0];
    let present =
      uuid === i.self.uuid ||
      i.before.present.has(uuid) ||
      first?.kind === 'node-left' ||
      (first === undefined && live.has(uuid));
    let t0 = from;
    // before its first join a member is simply not drawn; after a leave it is drawn as gone
    let left = false;
    const segments: Segment[] = [];
    const upTo = (t: number) => {
      if (t > t0 && (present || left)) segments.push({ from: t0, to: t, fill: present ? PRESENT : DOWN });
    };
    for (const e of evs) {
      const t = Math.max(from, e.at);
      upTo(t);
      present = e.kind === 'node-joined';
      left ||= e.kind === 'node-left';
      t0 = Math.max(t0, t);
    }
    upTo(end);
    laneOf.set(uuid, lanes.length);
    lanes.push({ label: names.get(uuid) ?? uuid.slice(0, 8), segments });
  }
  const bands: Band[] = [];
  for (const b of bandsBy) {
    const lane = laneOf.get(b.uuid);
    if (lane === undefined) continue;
    bands.push({
      lane,
      from: b.from,
      to: b.to,
      title: `${b.name} lord, epoch ${b.epoch}`,
      text: `lord e${b.epoch}`,
    });
  }

  const shown = i.entries.filter((e) => e.at >= start).slice(-MAX_MARKERS);
  const markers: Marker[] = shown.map((e) => ({ t: e.at, text: markerText(e) }));
  const count = (k: HistoryEntry['kind']) => i.entries.filter((e) => e.kind === k).length;
  // ticks count back from now, so their labels are round
  const step = niceStep(end - start, 6);
  const ticks: { t: number; label: string }[] = [];
  for (let t = end; t >= start - 1e-9; t -= step) ticks.unshift({ t, label: ago(end - t) });

  const legend: LegendItem[] = [
    ...colour
      .ids()
      .map((u) => ({ swatch: colour.of(u), text: `${lordNames.get(u) ?? u.slice(0, 8)} seen as lord` })),
    { swatch: '#111', text: 'is lord (band)' },
    { swatch: PRESENT, text: 'member present' },
    { swatch: DOWN, text: 'gone (left or timed out)' },
    { swatch: NO_LORD_SPAN, text: 'no lord known (red strip)' },
  ];
  return drawTimeline({
    width: 760,
    left: 110,
    title: `${i.legion}: lord changes, joins, leaves and hook runs over the last hour`,
    heading: `${i.legion} — ${end - start >= i.windowMs ? 'the last hour' : `the last ${ago(end - start).slice(1)}`} as ${i.self.name} saw it`,
    subheading: `${count('lord-changed')} lord changes, ${count('node-joined')} joins, ${count('node-left')} leaves, ${count('hook')} hook runs`,
    start,
    end,
    ticks,
    rowH: 18,
    gap: 4,
    lanes,
    bands,
    spans,
    markers,
    markerLines: 4,
    spanColour: NO_LORD_SPAN,
    legend,
    legendColumns: 3,
  });
}
