/**
 * The status page in a real browser: headless Debian Chromium driven by puppeteer-core, against
 * real legiond processes on loopback (UDP 45000-45005, HTTP 45010-45013). On a 3-node legion the
 * page must show the lord, then after a SIGKILL of the lord's legiond show the new one and the
 * lord change in its timeline, without a reload. On one node restarted under the open page, the
 * browser must reconnect by itself with Last-Event-ID and start its record over. Screenshots
 * are kept in test-artifacts/ (git-ignored).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab, ROOT } from '../helpers/procs.js';

const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const ARTIFACTS = join(ROOT, 'test-artifacts');

let lab: Lab | null = null;
let browser: Browser | null = null;
let profile: string | null = null;
afterEach(async () => {
  await browser?.close().catch(() => undefined);
  browser = null;
  if (profile) rmSync(profile, { recursive: true, force: true });
  profile = null;
  await lab?.cleanup();
  lab = null;
});

function requireChromium(): void {
  if (!existsSync(CHROMIUM)) {
    throw new Error(`chromium is missing (${CHROMIUM}): the status page test needs it (.ci/run installs it)`);
  }
}

async function launch(): Promise<Browser> {
  requireChromium();
  profile = mkdtempSync(join(tmpdir(), 'legiond-chromium-'));
  return puppeteer.launch({
    executablePath: CHROMIUM,
    // root in a container: Chromium's sandbox needs user namespaces it may not get
    args: ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
    headless: true,
    userDataDir: profile,
    timeout: 30_000,
  });
}

const lordShown = (page: Page) =>
  page.$eval('section[data-legion="web"] .lord', (el) => el.textContent?.trim() ?? '');

/** the page as a person reads it, for a failure message */
let shown: () => Promise<string> = async () => '';

/** polls the page until `f` holds, bounded (generously: the machine is shared); never reloads */
async function waitFor(f: () => Promise<boolean>, what: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await f().catch(() => false)) return;
    if (Date.now() > deadline) {
      const text = await shown().catch((e) => `(page unreadable: ${e})`);
      throw new Error(`timed out waiting for the page to show ${what}; it shows:\n${text}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('the status page in Chromium', () => {
  it('shows the lord, and the new lord after a SIGKILL failover, without a reload', async () => {
    lab = new Lab();
    const http = (i: number) => 45010 + i;
    const nodes = await lab.legion(45000, 3, (i) => ['--http', `127.0.0.1:${http(i)}`, '--on', 'lord=true']);
    browser = await launch();
    const page = await browser.newPage();
    shown = () => page.$eval('body', (b) => (b as unknown as { innerText: string }).innerText);
    // a phone-sized window first (isMobile stays off: switching it later would reload the page)
    await page.setViewport({ width: 412, height: 915 });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(m.text());
    });
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    // n1 is watched: it stays up through the failover
    await page.goto(`http://127.0.0.1:${http(0)}/`, { waitUntil: 'load', timeout: 15_000 });
    expect(navigations).toBe(1);
    expect(await page.title()).toMatch(/^legiond on /);
    expect(await lordShown(page)).toBe('n3');
    await waitFor(() => page.$eval('#conn', (el) => el.textContent === 'live'), 'the event stream connected');
    // a marker only this document carries: a reload would lose it
    // expressions as strings: this file is type-checked without the DOM library
    await page.evaluate('window.legiondMarker = "still here"');
    const timeline = () => page.$eval('section[data-legion="web"] .timeline svg', (el) => el.outerHTML);
    const before = await timeline();
    expect(before).toContain('lord n3 e1');
    expect(before).not.toContain('lord n2 e2');
    const members = async () =>
      (
        await page.$$eval('section[data-legion="web"] table.members tbody tr', (rows) =>
          rows.map((r) => r.querySelector('td')?.textContent ?? ''),
        )
      )
        .map((m) => m.split(' ')[0])
        .sort()
        .join(',');
    // n1 and n2 start together, so n1 may hear n2 a moment after the page first loads
    await waitFor(async () => (await members()) === 'n1,n2,n3', 'all three members');
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-before.png'), fullPage: true });
    // readable on a phone: the page itself does not scroll sideways (wide tables scroll inside)
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);

    nodes[2]!.kill('SIGKILL');
    await waitFor(async () => (await lordShown(page)) === 'n2', 'n2 as the lord');
    expect(await page.$eval('section[data-legion="web"] .epoch', (el) => el.textContent)).toBe('2');
    await waitFor(async () => (await timeline()).includes('lord n2 e2'), 'the lord change in the timeline');
    await waitFor(
      () => page.$eval('#log', (el) => el.textContent?.includes('lord n2 e2') ?? false),
      'the lord change in the event list',
    );
    // n3 leaves n1's view once its silence passes the tolerance
    await waitFor(async () => (await timeline()).includes('n3 left'), 'n3 leaving');

    expect(navigations).toBe(1);
    expect(await page.evaluate('window.legiondMarker')).toBe('still here');
    expect(await page.evaluate('performance.getEntriesByType("navigation").length')).toBe(1);
    expect(errors).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-after.png'), fullPage: true });
    expect(existsSync(join(ARTIFACTS, 'status-page-after.png'))).toBe(true);
    // the same document on a desktop-sized window: no horizontal scrolling of the whole page
    await page.setViewport({ width: 1280, height: 900 });
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth')).toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-desktop.png'), fullPage: true });
    expect(navigations).toBe(1);
  }, 90_000);

  it('reconnects by itself when its legiond restarts, sending Last-Event-ID, and starts its record over', async () => {
    lab = new Lab();
    const port = 45013;
    const args = lab.nodeArgs({
      legion: 'web',
      base: 45004,
      i: 0,
      n: 2,
      valor: 100,
      extra: [
        '--insecure',
        '--http',
        `127.0.0.1:${port}`,
        '--state-dir',
        lab.path('state'),
        '--interval',
        '250ms',
      ],
    });
    let daemon = lab.legiond('n1', args);
    await daemon.waitEvent('lord', 20_000);
    browser = await launch();
    const page = await browser.newPage();
    shown = () => page.$eval('body', (b) => (b as unknown as { innerText: string }).innerText);
    // the headers as sent on the wire (the browser adds Last-Event-ID below the page's view)
    const streams: { lastEventId: string | undefined }[] = [];
    // the two CDP events of a request come in either order
    const urls = new Map<string, string>();
    const sent = new Map<string, Record<string, string>>();
    const match = (id: string) => {
      const url = urls.get(id);
      const h = sent.get(id);
      if (url === undefined || h === undefined) return;
      urls.delete(id);
      sent.delete(id);
      if (new URL(url).pathname === '/events') streams.push({ lastEventId: h['last-event-id'] });
    };
    const cdp = await page.createCDPSession();
    await cdp.send('Network.enable');
    cdp.on('Network.requestWillBeSent', (e) => {
      urls.set(e.requestId, e.request.url);
      match(e.requestId);
    });
    cdp.on('Network.requestWillBeSentExtraInfo', (e) => {
      sent.set(
        e.requestId,
        Object.fromEntries(Object.entries(e.headers).map(([k, v]) => [k.toLowerCase(), String(v)])),
      );
      match(e.requestId);
    });
    let navigations = 0;
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    await page.goto(`http://127.0.0.1:${port}/`, { waitUntil: 'load', timeout: 15_000 });
    const log = () => page.$eval('#log', (el) => el.textContent ?? '');
    const conn = () => page.$eval('#conn', (el) => el.textContent ?? '');
    await waitFor(async () => (await conn()) === 'live', 'the stream connected');
    expect(await lordShown(page)).toBe('n1');
    expect(await log()).toContain('lord n1 e1');
    await page.evaluate('window.legiondMarker = "still here"');
    // the first connection resumes from the page itself (?since=), with no header
    expect(streams).toEqual([{ lastEventId: undefined }]);

    daemon.kill('SIGTERM');
    await daemon.exited;
    await waitFor(async () => (await conn()) === 'reconnecting', 'the lost connection');
    // the newest event the page got before the stream ended (the lordship's end, say)
    const lastId = await page.$eval('#log li', (li) => li.getAttribute('data-seq'));
    expect(Number(lastId)).toBeGreaterThan(1);
    // the same node again: a new process (new boot of its event ids); the state dir keeps the epoch
    daemon = lab.legiond('n1-again', args);
    await daemon.waitEvent('lord', 20_000);
    await waitFor(
      async () => (await conn()) === 'live' && (await log()).includes('lord n1 e2'),
      'the new lordship',
    );
    // the old record was dropped (reset), not mixed with the new boot's
    expect(await log()).not.toContain('lord n1 e1');
    expect(await page.$eval('section[data-legion="web"] .epoch', (el) => el.textContent)).toBe('2');
    expect(await page.$eval('section[data-legion="web"] .timeline svg', (el) => el.outerHTML)).toContain(
      'lord n1 e2',
    );
    // the browser's own reconnects named the last event it had seen
    expect(streams.length).toBeGreaterThanOrEqual(2);
    for (const s of streams.slice(1)) expect(s.lastEventId).toMatch(new RegExp(`^[0-9a-z]+-${lastId}$`));
    expect(navigations).toBe(1);
    expect(await page.evaluate('window.legiondMarker')).toBe('still here');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-reconnected.png'), fullPage: true });
  }, 90_000);
});
