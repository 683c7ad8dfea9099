/**
 * The status page's HTML: one self-contained document (inline CSS and script, no external asset)
 * rendered on the server, and the fragments the event stream sends to keep it current. The
 * script only swaps in the fragments the server rendered, so there is one renderer, here.
 */
import { createHash } from 'node:crypto';
import { esc } from '../timeline/draw.js';

export interface MemberSnapshot {
  uuid: string;
  name: string;
  role: 'member' | 'arbiter' | 'observer';
  valor: string;
  lord: boolean;
  self: boolean;
  draining: boolean;
  /** ms since last heard; 0 for self */
  lastHeardMs: number;
  scroll: string;
}

export interface LegionSnapshot {
  name: string;
  self: { uuid: string; name: string };
  lord: { uuid: string; name: string; self: boolean } | null;
  epoch: string;
  quorum: number;
  quorumMet: boolean;
  votes: number;
  phase: string;
  members: MemberSnapshot[];
}

/** a history entry as the page shows it */
export interface EntryLine {
  seq: number;
  at: number;
  legion: string;
  kind: string;
  text: string;
}

function heard(m: MemberSnapshot): string {
  if (m.self) return 'self';
  return m.lastHeardMs < 1000 ? `${m.lastHeardMs} ms ago` : `${(m.lastHeardMs / 1000).toFixed(1)} s ago`;
}

/** scrolls are opaque: show the start of a long one, the whole of it on hover */
function scrollCell(s: string): string {
  const short = s.length > 60 ? `${s.slice(0, 59)}…` : s;
  return `<td class="scroll" title="${esc(s)}">${esc(short)}</td>`;
}

export function summaryHtml(s: LegionSnapshot): string {
  const lord = s.lord
    ? `<span class="lord">${esc(s.lord.name)}</span>${s.lord.self ? ' <span class="tag">this node</span>' : ''}`
    : '<span class="lord none">none</span>';
  const rows = s.members
    .map(
      (m) =>
        `<tr${m.lord ? ' class="is-lord"' : ''}><td>${esc(m.name)}${m.self ? ' <span class="tag">self</span>' : ''}${m.lord ? ' <span class="tag lordtag">lord</span>' : ''}</td>` +
        `<td>${m.role}${m.draining ? ' (draining)' : ''}</td><td class="num">${esc(m.valor)}</td><td class="num">${heard(m)}</td>${scrollCell(m.scroll)}</tr>`,
    )
    .join('');
  return (
    `<h2>${esc(s.name)}</h2>` +
    `<dl class="facts"><div><dt>lord</dt><dd>${lord}</dd></div>` +
    `<div><dt>epoch</dt><dd class="epoch">${esc(s.epoch)}</dd></div>` +
    `<div><dt>quorum</dt><dd class="quorum">${s.quorum}${s.quorum > 1 ? ` (${s.votes} votes for self${s.quorumMet ? ', met' : ''})` : ' (none)'}</dd></div>` +
    `<div><dt>this node</dt><dd>${esc(s.self.name)} · ${esc(s.phase)}</dd></div></dl>` +
    `<div class="scrollx"><table class="members"><thead><tr><th>member</th><th>role</th><th>valor</th><th>last heard</th><th>scroll</th></tr></thead><tbody>${rows}</tbody></table></div>`
  );
}

export function legionSection(s: LegionSnapshot, svg: string): string {
  return `<section class="legion" data-legion="${esc(s.name)}"><div class="summary">${summaryHtml(s)}</div><div class="timeline scrollx">${svg}</div></section>`;
}

function entryItem(e: EntryLine): string {
  return `<li data-seq="${e.seq}"><time>${esc(new Date(e.at).toISOString().slice(11, 19))}</time> <b>${esc(e.legion)}</b> ${esc(e.text)}</li>`;
}

const CSS = `
:root{color-scheme:light;font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#222;background:#f6f7f9}
body{margin:0;padding:0 12px 24px;max-width:1000px;margin-inline:auto;line-height:1.4}
header{display:flex;flex-wrap:wrap;gap:8px 16px;align-items:baseline;padding:12px 0;border-bottom:1px solid #ddd}
h1{font-size:1.25rem;margin:0}h2{font-size:1.1rem;margin:0 0 8px}
#conn{font-size:.85rem;padding:1px 8px;border-radius:9px;background:#ddd}#conn.live{background:#cdeccd}#conn.down{background:#f6d0d0}
.muted,#updated{color:#666;font-size:.85rem}
.legion{background:#fff;border:1px solid #ddd;border-radius:6px;margin:14px 0;padding:12px}
.facts{display:flex;flex-wrap:wrap;gap:6px 22px;margin:0 0 10px}.facts div{min-width:7em}
dt{font-size:.75rem;text-transform:uppercase;color:#666}dd{margin:0;font-weight:600}
.lord{font-size:1.15rem}.none{color:#b00}
.tag{font-size:.7rem;font-weight:600;padding:0 5px;border-radius:7px;background:#e4e9f0;color:#333}.lordtag{background:#222;color:#fff}
.scrollx{overflow-x:auto;-webkit-overflow-scrolling:touch}
table{border-collapse:collapse;width:100%;font-size:.9rem}th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;white-space:nowrap}
th{font-size:.75rem;text-transform:uppercase;color:#666}.num{text-align:right;font-variant-numeric:tabular-nums}
tr.is-lord{background:#f3f6fa}.scroll{font-family:ui-monospace,monospace;font-size:.8rem;max-width:18em;overflow:hidden;text-overflow:ellipsis}
.timeline{margin-top:10px}.timeline svg{width:100%;height:auto;min-width:600px}
#log{list-style:none;padding:0;margin:0;font-size:.85rem;max-height:24em;overflow-y:auto}#log li{padding:2px 0;border-bottom:1px solid #eee}
time{font-family:ui-monospace,monospace;color:#666}
@media (max-width:600px){body{padding:0 6px 16px}.legion{padding:8px}th,td{padding:3px 5px}.facts div{min-width:5em}}
`;

/** swaps in what the server sends; EventSource reconnects by itself and replays by Last-Event-ID */
const SCRIPT = `(() => {
  const root = document.getElementById('legions');
  const log = document.getElementById('log');
  const conn = document.getElementById('conn');
  const since = document.body.dataset.since;
  // on a narrow screen the timeline scrolls: keep its newest end, where things happen, in view
  const toNow = (t) => { t.scrollLeft = t.scrollWidth; };
  for (const t of document.querySelectorAll('.timeline')) toNow(t);
  const es = new EventSource('events' + (since ? '?since=' + encodeURIComponent(since) : ''));
  es.onopen = () => { conn.textContent = 'live'; conn.className = 'live'; };
  // the browser retries by itself, except after an HTTP error (the daemon full of pages, say)
  es.onerror = () => {
    conn.textContent = es.readyState === EventSource.CLOSED ? 'closed: reload to retry' : 'reconnecting';
    conn.className = 'down';
  };
  const sectionOf = (name) => {
    for (const s of root.children) if (s.dataset.legion === name) return s;
    const s = document.createElement('section');
    s.className = 'legion';
    s.dataset.legion = name;
    s.innerHTML = '<div class="summary"></div><div class="timeline scrollx"></div>';
    root.appendChild(s);
    return s;
  };
  es.addEventListener('status', (m) => {
    const d = JSON.parse(m.data);
    const seen = new Set();
    for (const l of d.legions) {
      seen.add(l.name);
      const s = sectionOf(l.name);
      s.querySelector('.summary').innerHTML = l.summary;
      if (typeof l.svg === 'string') {
        const t = s.querySelector('.timeline');
        const atEnd = t.scrollLeft + t.clientWidth >= t.scrollWidth - 4;
        t.innerHTML = l.svg;
        if (atEnd) toNow(t);
      }
    }
    for (const s of [...root.children]) if (!seen.has(s.dataset.legion)) s.remove();
    document.getElementById('empty').hidden = d.legions.length > 0;
    document.getElementById('updated').textContent = 'updated ' + new Date(d.at).toISOString().slice(11, 19) + ' UTC';
  });
  es.addEventListener('reset', () => log.replaceChildren());
  es.addEventListener('entry', (m) => {
    const e = JSON.parse(m.data);
    if (log.querySelector('[data-seq="' + e.seq + '"]')) return;
    const li = document.createElement('li');
    li.dataset.seq = e.seq;
    const t = document.createElement('time');
    t.textContent = new Date(e.at).toISOString().slice(11, 19);
    const b = document.createElement('b');
    b.textContent = e.legion;
    li.append(t, ' ', b, ' ' + e.text);
    log.prepend(li);
    while (log.children.length > 200) log.lastElementChild.remove();
  });
})();`;

/** the script is fixed, so the page's Content-Security-Policy can name it by hash */
const SCRIPT_HASH = createHash('sha256').update(SCRIPT).digest('base64');
export const PAGE_CSP = `default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-${SCRIPT_HASH}'; connect-src 'self'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`;

export interface PageInput {
  host: string;
  legions: { snapshot: LegionSnapshot; svg: string }[];
  /** newest last */
  recent: EntryLine[];
  /** the event id the page is current to: the stream starts after it */
  since: string;
  /** wall-clock ms */
  now: number;
}

export function pageHtml(p: PageInput): string {
  const legions = p.legions.map((l) => legionSection(l.snapshot, l.svg)).join('\n');
  const recent = [...p.recent]
    .reverse()
    .slice(0, 200)
    .map((e) => entryItem(e))
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>legiond on ${esc(p.host)}</title><style>${CSS}</style></head>
<body data-since="${esc(p.since)}">
<header><h1>legiond on ${esc(p.host)}</h1><span id="conn">connecting</span><span id="updated">updated ${esc(new Date(p.now).toISOString().slice(11, 19))} UTC</span></header>
<main><p id="empty" class="muted"${p.legions.length > 0 ? ' hidden' : ''}>no legion is running</p>
<div id="legions">${legions}</div>
<h2>recent events</h2><ul id="log">${recent}</ul></main>
<script>${SCRIPT}</script>
</body></html>
`;
}
