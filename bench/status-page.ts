/**
 * `npx tsx bench/status-page.ts [ROUNDS]`: what the status page costs the daemon. Fills one
 * legion's history ring to its bound (2000 events spread over the hour: lord changes, joins,
 * leaves of 60 members, hook runs), then times drawing the timeline SVG (the work done at most
 * once per change or 10 s, shared by every open page), the summary fragment, and a whole page,
 * and prints their sizes: the bytes one `status` event and one page load carry. Prints figures,
 * never asserts.
 */
import { HISTORY_CAPACITY, History } from '../src/http/history.js';
import { liveTimelineSvg } from '../src/http/live-timeline.js';
import { pageHtml, summaryHtml } from '../src/http/page.js';
import { entryLine, snapshotOf } from '../src/http/status.js';
import type { LegionView, MemberInfo } from '../src/legion/types.js';

const rounds = Number(process.argv[2] ?? 200);
const HOUR = 3_600_000;
const start = 1_800_000_000_000;
let now = start;
const history = new History({ now: () => now });
const member = (i: number, self = false): MemberInfo => ({
  uuid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
  name: `node-${i}`,
  valor: BigInt(100 + i),
  lord: false,
  arbiter: false,
  observer: false,
  draining: false,
  self,
  scroll: new TextEncoder().encode(`addr=10.0.${i >> 8}.${i & 255}:6379`),
  lastSeenMs: performance.now(),
  vote: null,
  epoch: 1n,
});
const members = Array.from({ length: 60 }, (_, i) => member(i, i === 0));
let epoch = 0;
for (let i = 0; i < HISTORY_CAPACITY; i++) {
  now = start + Math.floor((i / HISTORY_CAPACITY) * HOUR);
  const m = members[(i * 7) % members.length]!;
  const k = i % 4;
  if (k === 0)
    history.record('web', {
      kind: 'lord-changed',
      lord: { uuid: m.uuid, name: m.name },
      epoch: String(++epoch),
    });
  else if (k === 1)
    history.record('web', {
      kind: 'hook',
      event: 'lord-changed',
      outcome: 'ok',
      durationMs: 12,
      exitCode: 0,
    });
  else
    history.record('web', {
      kind: k === 2 ? 'node-left' : 'node-joined',
      member: { uuid: m.uuid, name: m.name },
    });
}
now = start + HOUR;
const view: LegionView = {
  legion: 'web',
  self: members[0]!,
  lord: members[7]!,
  epoch: BigInt(epoch),
  quorum: 31,
  quorumMet: false,
  votes: 0,
  baseValor: 100n,
  valor: 100n,
  draining: false,
  drainingUntilMs: null,
  members,
  phase: 'running',
};

function time<T>(f: () => T): { ms: number; value: T } {
  const samples: number[] = [];
  let value = f();
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    value = f();
    samples.push(performance.now() - t0);
  }
  samples.sort((a, b) => a - b);
  return { ms: samples[Math.floor(samples.length / 2)]!, value };
}

const snapshot = snapshotOf('web', view, performance.now());
const svg = time(() =>
  liveTimelineSvg({
    legion: 'web',
    self: snapshot.self,
    now,
    windowMs: HOUR,
    startedAt: start - HOUR,
    entries: history.entries('web'),
    before: history.before('web'),
    members: snapshot.members,
  }),
);
const summary = time(() => summaryHtml(snapshotOf('web', view, performance.now())));
const recent = history.since(0).entries.map(entryLine);
const page = time(() =>
  pageHtml({ host: 'bench', legions: [{ snapshot, svg: svg.value }], recent, since: 'b-1', now }),
);
const kb = (s: string) => (Buffer.byteLength(s) / 1024).toFixed(1);
console.log(
  `status page, one legion: ${history.entries('web').length} events in the ring, ${members.length} members; median of ${rounds}`,
);
console.log('| work | median ms | size KiB |');
console.log('| --- | --- | --- |');
console.log(`| timeline SVG (40 lanes, 60 markers) | ${svg.ms.toFixed(2)} | ${kb(svg.value)} |`);
console.log(`| summary fragment (every status event) | ${summary.ms.toFixed(3)} | ${kb(summary.value)} |`);
console.log(
  `| whole page (first load, with 200 recent events) | ${page.ms.toFixed(2)} | ${kb(page.value)} |`,
);
const ring = time(() => history.since(0));
console.log(
  `| replay of the whole ring (Last-Event-ID far behind) | ${ring.ms.toFixed(3)} | ${kb(recent.map((e) => JSON.stringify(e)).join('\n'))} |`,
);
