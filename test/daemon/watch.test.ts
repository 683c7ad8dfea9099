/**
 * watch() from the client library against real daemons: it follows a scroll change and a
 * failover (the lord SIGKILLed), and survives a restart of the daemon it watches through,
 * reporting the lord that took over while that daemon was away.
 * The daemons are the built dist/ code; the client library runs in this process.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { LegiondClient, type WatchEvent } from '../../src/client/index.js';
import { Lab, legionctl, ROOT, requireBuild, until } from '../helpers/procs.js';

let lab: Lab;
const stops: Array<() => unknown> = [];
afterEach(async () => {
  for (const s of stops.splice(0)) await s();
  await lab.cleanup();
});

const BASE = 48210;

describe('watch() with real daemons', () => {
  it('sees a scroll change and a failover, and survives a restart of its daemon', async () => {
    requireBuild();
    lab = new Lab();
    const [n1, n2, n3] = await lab.legion(BASE, 3);
    const secret = lab.path('secret');
    const events: WatchEvent[] = [];
    const lost: string[] = [];
    const ac = new AbortController();
    const client = new LegiondClient({ path: lab.path('n1.sock'), timeoutMs: 5000 });
    const loop = (async () => {
      for await (const e of client.watch('web', {
        signal: ac.signal,
        minDelayMs: 50,
        maxDelayMs: 500,
        onDisconnect: (e) => lost.push(e.code),
      }))
        events.push(e);
    })();
    stops.push(() => {
      ac.abort();
      return loop.catch(() => undefined);
    });
    const seen = async (pred: (e: WatchEvent) => boolean, what: string, from = 0, timeoutMs = 10_000) => {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const i = events.findIndex((e, k) => k >= from && pred(e));
        if (i >= 0) return i;
        if (Date.now() > deadline)
          throw new Error(
            `no ${what} within ${timeoutMs}ms; watch saw:\n${events.map((e) => JSON.stringify(e)).join('\n')}`,
          );
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const lordIs = (name: string | null) => (e: WatchEvent) =>
      e.type === 'lord-changed' && (e.lord?.name ?? null) === name;

    const start = await seen((e) => e.type === 'lord-changed' && e.via === 'start', 'start event');
    expect(events[start]).toMatchObject({ lord: { name: 'n3' } });

    // a scroll change of the lord
    expect(
      legionctl(['--control', lab.path('n3.sock'), 'scroll', 'set', 'web', 'addr=127.0.0.1:7003']).code,
    ).toBe(0);
    await seen(
      (e) =>
        e.type === 'scroll-changed' && e.member.name === 'n3' && e.member.scroll === 'addr=127.0.0.1:7003',
      'the scroll change',
    );

    // failover: the lord is killed, n2 takes over
    const beforeKill = events.length;
    n3!.kill('SIGKILL');
    const failover = await seen(lordIs('n2'), 'lord-changed to n2', beforeKill);
    expect(events[failover]).toMatchObject({
      via: 'event',
      lord: { name: 'n2', epoch: expect.stringMatching(/^[0-9]+$/) },
    });
    expect(BigInt((events[failover] as { lord: { epoch: string } }).lord.epoch)).toBeGreaterThan(
      BigInt((events[start] as { lord: { epoch: string } }).lord.epoch),
    );

    // the watched daemon restarts; meanwhile n3 comes back and takes the title (valor 300)
    const beforeRestart = events.length;
    n1!.kill('SIGTERM');
    await n1!.exited;
    const n3b = lab.legiond(
      'n3b',
      lab.nodeArgs({ legion: 'web', base: BASE, i: 2, n: 3, valor: 300, extra: ['--secret-file', secret] }),
    );
    await n3b.waitEvent('lord', 10_000);
    await n2!.waitEvent('unlord', 10_000);
    lab.legiond(
      'n1b',
      lab.nodeArgs({ legion: 'web', base: BASE, i: 0, n: 3, valor: 100, extra: ['--secret-file', secret] }),
    );
    await seen(lordIs('n3'), 'lord-changed to n3 after the restart', beforeRestart, 15_000);
    expect(lost).toContain('ERR_CONNECTION_CLOSED');
    // what the daemon held when the watch came back differs from n2, so it was reported as such
    expect(events.slice(beforeRestart).some((e) => e.type === 'lord-changed' && e.via === 'reconnect')).toBe(
      true,
    );
    // the new stream is live: a scroll change after the restart arrives
    expect(
      legionctl(['--control', lab.path('n3.sock'), 'scroll', 'set', 'web', 'addr=127.0.0.1:7033']).code,
    ).toBe(0);
    await seen(
      (e) =>
        (e.type === 'scroll-changed' && e.member.scroll === 'addr=127.0.0.1:7033') ||
        (e.type === 'lord-changed' && e.lord?.scroll === 'addr=127.0.0.1:7033'),
      'the scroll change after the restart',
      beforeRestart,
    );
    ac.abort();
    await loop;
  });

  it('examples/follow-lord.ts follows the address in the scroll of the lord through a failover', async () => {
    requireBuild();
    lab = new Lab();
    await lab.legion(BASE + 10, 2, (i) => ['--scroll', `addr=127.0.0.1:${7100 + i + 1}`]);
    // the example imports legiond/client, which the package's exports map to dist/
    const worker = spawn(
      join(ROOT, 'node_modules', '.bin', 'tsx'),
      [join(ROOT, 'examples', 'follow-lord.ts'), 'web', '--control', lab.path('n1.sock')],
      { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    worker.stdout.on('data', (d) => {
      out += d;
    });
    worker.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise((r) => worker.on('exit', r));
    stops.push(async () => {
      worker.kill('SIGKILL');
      await exited;
    });
    await until(
      () => /following n2 at 127\.0\.0\.1:7102 \(epoch [0-9]+\)/.test(out),
      `the worker to follow n2: ${out}`,
      15_000,
    );
    lab.procs.find((p) => p.name === 'n2')!.kill('SIGKILL');
    await until(() => out.includes('following n1 at 127.0.0.1:7101'), 'the worker to follow n1', 10_000);
    worker.kill('SIGINT');
    expect(await exited).toBe(0);
  });
});
