/** Pure text formatting for legionctl: result objects in, strings out. */
import type {
  ControlEvent,
  LegionStatus,
  LordResult,
  MemberRow,
  MembersResult,
  StatusResult,
} from '../control/results.js';
import { formatDuration } from '../control/values.js';

const SCROLL_WIDTH = 32;

/** control characters would break the table's lines, so they are shown escaped */
function printable(s: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  return s.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`;
  });
}

export function shorten(s: string, width = SCROLL_WIDTH): string {
  const chars = Array.from(s);
  return chars.length <= width ? s : `${chars.slice(0, width - 1).join('')}…`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) =>
    Math.max(Array.from(h).length, ...rows.map((r) => Array.from(r[i] ?? '').length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat((widths[i] ?? 0) - Array.from(c).length)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

export function formatLastHeard(m: Pick<MemberRow, 'self' | 'lastSeenMs'>): string {
  return m.self ? 'self' : `${formatDuration(m.lastSeenMs)} ago`;
}

/** the LEGION column appears only when rows of several legions are shown together */
export function formatMembersTable(result: MembersResult): string {
  const showLegion = result.legions.length > 1;
  const header = [...(showLegion ? ['LEGION'] : []), 'NAME', 'UUID', 'VALOR', 'LORD', 'LAST HEARD', 'SCROLL'];
  const rows: string[][] = [];
  for (const l of result.legions) {
    for (const m of l.members) {
      const valor = m.observer
        ? 'observer'
        : m.arbiter
          ? `${m.valor} (arbiter)`
          : m.draining
            ? `${m.valor} (draining)`
            : m.valor;
      rows.push([
        ...(showLegion ? [l.legion] : []),
        printable(m.name),
        m.uuid,
        valor,
        m.lord ? '*' : '',
        formatLastHeard(m),
        m.scroll === '' ? '-' : shorten(printable(m.scroll)),
      ]);
    }
  }
  return table(header, rows);
}

/** `members --json`: one flat object per member, with its legion */
export function flattenMembers(result: MembersResult): Array<MemberRow & { legion: string }> {
  return result.legions.flatMap((l) => l.members.map((m) => ({ legion: l.legion, ...m })));
}

function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

function formatLegionStatus(s: LegionStatus): string {
  const lord = s.lord
    ? `${s.lord.name} (${s.lord.uuid})${s.lord.uuid === s.uuid ? ' — this node' : ''}`
    : 'none';
  const valor = s.valor === s.baseValor ? s.valor : `${s.valor} (base ${s.baseValor}, lowered by checks)`;
  const rejected = Object.entries(s.counters.rejected)
    .filter(([, n]) => n > 0)
    .map(([code, n]) => `${code}=${n}`)
    .join(' ');
  const rows: Array<[string, string]> = [
    ['node', `${s.name} (${s.uuid})`],
    ['phase', `${s.phase}${s.draining ? ', draining (stepped down)' : ''}`],
    ['lord', lord],
    ['epoch', s.epoch],
    ['valor', valor],
    [
      'quorum',
      `${s.quorum} (${s.quorumMet ? 'met' : 'NOT met'}, ${s.votes} vote${s.votes === 1 ? '' : 's'} for this node)`,
    ],
    ['members', String(s.members)],
    [
      'packets',
      `sent ${s.counters.packetsSent} (${formatBytes(s.counters.bytesSent)}), received ${s.counters.packetsReceived} (${formatBytes(s.counters.bytesReceived)})`,
    ],
    ['rejected', rejected === '' ? 'none' : rejected],
  ];
  const e = s.engine;
  if (e) {
    const state = e.reachable
      ? 'reachable'
      : `UNREACHABLE since ${e.unreachableSince ?? '?'}: no lord (${e.lastError ?? 'no answer'})`;
    rows.push(['engine', `${e.backend} ${state}; ${e.requests} requests, ${e.failures} failed`]);
  }
  const l = s.counters.learning;
  if (l) {
    const refused = l.learnRefused > 0 ? `, ${l.learnRefused} refused at the limit` : '';
    rows.push(['learned', `${l.learnedPeers} peer address${l.learnedPeers === 1 ? '' : 'es'}${refused}`]);
  }
  for (const c of s.checks) {
    const streak =
      c.consecutiveFail > 0 ? `${c.consecutiveFail} failed in a row` : `${c.consecutiveOk} ok in a row`;
    rows.push(['check', `${JSON.stringify(c.command)} ${c.state} (${streak})`]);
  }
  const width = Math.max(...rows.map(([k]) => k.length));
  return [
    `legion ${s.legion} (${s.backend ?? s.protocol})`,
    ...rows.map(([k, v]) => `  ${k.padEnd(width)}  ${v}`),
  ].join('\n');
}

export function formatStatus(status: StatusResult): string {
  const head = `legiond pid ${status.pid}, ${status.legions.length} legion${status.legions.length === 1 ? '' : 's'}`;
  return [head, ...status.legions.map(formatLegionStatus)].join('\n');
}

function ref(n: { uuid: string; name: string }): string {
  return `${printable(n.name)}(${n.uuid})`;
}

/** one line per event: time, legion, type, then key=value details */
export function formatEvent(e: ControlEvent): string {
  const parts = [e.at, e.legion, e.type, `epoch=${e.epoch}`, `lord=${e.lord ? ref(e.lord) : 'none'}`];
  if (e.type === 'lord-changed') {
    if (e.lord) parts.push(`lord_scroll=${JSON.stringify(e.lord.scroll)}`);
  } else if (e.type === 'scroll-changed') {
    parts.push(`member=${ref(e.member)}`, `scroll=${JSON.stringify(e.member.scroll)}`);
  } else {
    if (e.member) parts.push(`member=${ref(e.member)}`);
    if (e.reason !== undefined) parts.push(`reason=${printable(e.reason)}`);
  }
  return parts.join(' ');
}

/** `legionctl lord`: the lord and what a follower needs of it, or that there is none */
export function formatLord(r: LordResult): string {
  const l = r.lord;
  if (!l) return `${r.legion}: no lord`;
  return [
    `${r.legion}: lord ${printable(l.name)} (${l.uuid})${l.self ? ' — this node' : ''}`,
    `  epoch   ${l.epoch}`,
    `  scroll  ${l.scroll === '' ? '-' : printable(l.scroll)}`,
  ].join('\n');
}
