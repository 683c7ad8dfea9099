/** The status page's HTML and its timeline picture, rendered from plain data. */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { HistoryEntry } from '../../src/http/history.js';
import { ago, liveTimelineSvg, markerText } from '../../src/http/live-timeline.js';
import { type LegionSnapshot, PAGE_CSP, pageHtml, summaryHtml } from '../../src/http/page.js';

const snap = (o: Partial<LegionSnapshot> = {}): LegionSnapshot => ({
  name: 'web<1>',
  self: { uuid: 'u-a', name: 'a' },
  lord: { uuid: 'u-b', name: 'b&b', self: false },
  epoch: '7',
  quorum: 2,
  quorumMet: false,
  votes: 1,
  phase: 'running',
  members: [
    {
      uuid: 'u-a',
      name: 'a',
      role: 'member',
      valor: '100',
      lord: false,
      self: true,
      draining: false,
      lastHeardMs: 0,
      scroll: '',
    },
    {
      uuid: 'u-b',
      name: 'b&b',
      role: 'arbiter',
      valor: '0',
      lord: true,
      self: false,
      draining: true,
      lastHeardMs: 1234,
      scroll: `<script>${'x'.repeat(80)}`,
    },
  ],
  ...o,
});

describe('status page HTML', () => {
  it('shows lord, epoch, quorum and every member, escaping what members send', () => {
    const h = summaryHtml(snap());
    expect(h).toContain('<h2>web&lt;1&gt;</h2>');
    expect(h).toContain('<span class="lord">b&amp;b</span>');
    expect(h).toContain('<dd class="epoch">7</dd>');
    expect(h).toContain('2 (1 votes for self)');
    expect(h).toContain('<td>arbiter (draining)</td>');
    expect(h).toContain('1.2 s ago');
    expect(h).toContain('<td class="num">self</td>');
    expect(h).not.toContain('<script>');
    // a long scroll is cut in the cell and whole in its tooltip
    expect(h).toContain(`title="&lt;script&gt;${'x'.repeat(80)}"`);
    expect(h).toContain('…</td>');
    expect(summaryHtml(snap({ lord: null, quorum: 1 }))).toContain('<span class="lord none">none</span>');
    expect(summaryHtml(snap({ lord: null, quorum: 1 }))).toContain('1 (none)');
  });

  it('is one document with no external asset, and its CSP admits exactly its script', () => {
    const html = pageHtml({
      host: 'h"x',
      legions: [{ snapshot: snap(), svg: '<svg>pic</svg>' }],
      recent: [
        { seq: 1, at: 0, legion: 'web', kind: 'join', text: 'quorum reached' },
        { seq: 2, at: 1000, legion: 'web', kind: 'lord-changed', text: 'lord <b> e2' },
      ],
      since: 'boot-2',
      now: 5000,
    });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('<title>legiond on h&quot;x</title>');
    expect(html).toContain('data-since="boot-2"');
    expect(html).toContain('<svg>pic</svg>');
    expect(html).not.toMatch(/\b(src|href)=/);
    expect(html).not.toMatch(/https?:\/\/(?!www\.w3\.org)/);
    // newest first, escaped
    expect(html.indexOf('data-seq="2"')).toBeLessThan(html.indexOf('data-seq="1"'));
    expect(html).toContain('lord &lt;b&gt; e2');
    const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)].map((m) => m[1]!);
    expect(scripts).toHaveLength(1);
    const hash = createHash('sha256').update(scripts[0]!).digest('base64');
    expect(PAGE_CSP).toContain(`script-src 'sha256-${hash}'`);
    expect(PAGE_CSP).toContain("default-src 'none'");
    expect(scripts[0]).toContain("new EventSource('events'");
    expect(pageHtml({ host: 'h', legions: [], recent: [], since: 'b-0', now: 0 })).toContain(
      '<p id="empty" class="muted">no legion is running</p>',
    );
  });
});

describe('the live timeline', () => {
  const HOUR = 3_600_000;
  const now = 10 * HOUR;
  const a = { uuid: 'u-a', name: 'a' };
  const b = { uuid: 'u-b', name: 'b' };
  const c = { uuid: 'u-c', name: 'c<' };
  let seq = 0;
  const e = (at: number, body: Record<string, unknown>) =>
    ({ seq: ++seq, at: now - at, legion: 'web', ...body }) as HistoryEntry;
  const entries = [
    e(50 * 60_000, { kind: 'lord-changed', lord: c, epoch: '3' }),
    e(40 * 60_000, { kind: 'node-left', member: c, reason: 'timeout' }),
    e(40 * 60_000 - 1, { kind: 'lord-changed', lord: null, epoch: '3' }),
    e(39 * 60_000, { kind: 'lord-changed', lord: b, epoch: '4' }),
    e(39 * 60_000 - 5, {
      kind: 'hook',
      event: 'lord-changed',
      outcome: 'failed',
      durationMs: 3,
      exitCode: 2,
    }),
  ];
  const svg = liveTimelineSvg({
    legion: 'web',
    self: a,
    now,
    windowMs: HOUR,
    startedAt: now - 5 * HOUR,
    entries,
    before: { lord: b, lordEpoch: '2', present: new Map([['u-c', 'c<']]) },
    members: [a, b],
  });

  it('draws lanes for the lord seen and for each member, gone ones last', () => {
    expect(svg).toContain('>lord seen by a</text>');
    const labels = [...svg.matchAll(/text-anchor="end">([^<]*)<\/text>/g)].map((m) => m[1]);
    expect(labels).toEqual(['lord seen by a', 'a', 'b', 'c&lt;']);
    expect(svg).toContain('the last hour as a saw it');
    expect(svg).toContain('3 lord changes, 0 joins, 1 leaves, 1 hook runs');
  });

  it('bands each lordship on its lane, shades the time without a lord, marks every event', () => {
    expect(svg).toContain('<title>b lord, epoch 4</title>');
    // the lordship that began before the kept history, with the epoch its evicted change named
    expect(svg).toContain('<title>b lord, epoch 2</title>');
    expect(svg).toContain('<title>c&lt; lord, epoch 3</title>');
    expect(svg).toContain('<title>no lord known</title>');
    for (const m of [
      'lord c&lt; e3',
      'c&lt; left (timeout)',
      'no lord',
      'lord b e4',
      'hook lord-changed failed (exit 2)',
    ])
      expect(svg).toContain(`>${m}</text>`);
    expect(svg).toContain('>-60m</text>');
    expect(svg).toContain('>now</text>');
    expect(svg).toContain('fill="url(#down)"');
  });

  it('words events and times for people', () => {
    expect(markerText(e(0, { kind: 'join', epoch: '0' }))).toBe('quorum reached');
    expect(markerText(e(0, { kind: 'node-joined', member: b }))).toBe('b joined');
    expect(
      markerText(e(0, { kind: 'hook', event: 'lord', outcome: 'timeout', durationMs: 1, exitCode: null })),
    ).toBe('hook lord timeout');
    expect(ago(0)).toBe('now');
    expect(ago(30_000)).toBe('-30s');
    expect(ago(600_000)).toBe('-10m');
  });
});
