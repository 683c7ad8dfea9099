/**
 * Follower events between real legiond processes on loopback (ports 48400-48402): a follower's
 * lord-changed hook and its `legionctl events --json` stream follow a failover, and a scroll set
 * on one node fires scroll-changed on another.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { Lab, LEGIONCTL, legionctl, until } from '../helpers/procs.js';

let lab: Lab;
let stream: ChildProcess | null = null;
afterEach(async () => {
  stream?.kill('SIGKILL');
  stream = null;
  await lab.cleanup();
});

function lines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** `legionctl events --json` on node's socket, its lines parsed as they come */
function events(sock: string): Record<string, unknown>[] {
  const got: Record<string, unknown>[] = [];
  stream = spawn(process.execPath, [LEGIONCTL, '--control', sock, '--json', 'events', 'web'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  stream.stdout!.on('data', (c: Buffer) => {
    buf += c.toString('utf8');
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      if (line.trim()) got.push(JSON.parse(line) as Record<string, unknown>);
    }
  });
  return got;
}

describe('follower events between real processes', () => {
  it("kill the lord: a follower's lord-changed hook and event stream name the new lord; a scroll set fires scroll-changed elsewhere", async () => {
    lab = new Lab();
    const log = (i: number) => lab.path(`n${i + 1}.hooks`);
    const nodes = await lab.legion(48400, 3, (i) => [
      '--scroll',
      `addr=10.0.0.${i + 1}`,
      '--on',
      `lord-changed=echo "lord-changed $LEGION_LORD_NAME $LEGION_EPOCH $LEGION_LORD_SCROLL" >> ${log(i)}`,
      '--on',
      `scroll-changed=echo "scroll-changed $LEGION_MEMBER_NAME $LEGION_MEMBER_SCROLL" >> ${log(i)}`,
    ]);
    const [n1, n2, n3] = nodes as [(typeof nodes)[0], (typeof nodes)[0], (typeof nodes)[0]];
    // n1 started once n3 was lord: its first lord-changed names n3
    await until(() => lines(log(0)).length > 0, "n1's first lord-changed hook");
    // its own scroll, given at start, fires nothing: there was no scroll before
    expect(lines(log(0))).toEqual(['lord-changed n3 1 addr=10.0.0.3']);
    const stream1 = events(lab.path('n1.sock'));
    // the stream is subscribed once a scroll set on n1 itself comes through it (each set differs,
    // or it would change nothing)
    let tries = 0;
    await until(() => {
      if (stream1.some((e) => e.type === 'scroll-changed')) return true;
      legionctl(['--control', lab.path('n1.sock'), 'scroll', 'set', 'web', `addr=10.0.0.1#${tries++}`]);
      return false;
    }, 'the event stream to start');

    n3.kill('SIGKILL');
    const lordChanges = () => lines(log(0)).filter((l) => l.startsWith('lord-changed'));
    const NEW_LORD = 'lord-changed n2 2 addr=10.0.0.2';
    await until(() => lordChanges().includes(NEW_LORD), "n1's lord-changed hook after the failover", 10_000);
    // between the two, n1 may have seen no lord for a moment (n3 timed out before n2 claimed)
    const seen = lordChanges();
    expect(seen[0]).toBe('lord-changed n3 1 addr=10.0.0.3');
    expect(seen.at(-1)).toBe(NEW_LORD);
    for (const l of seen.slice(1, -1)) expect(l).toMatch(/^lord-changed {2}\d+ $/);
    const named = (e: Record<string, unknown>) => e.type === 'lord-changed' && e.lord !== null;
    await until(() => stream1.some(named), 'lord-changed on the stream');
    const changed = stream1.find(named)!;
    expect(changed).toMatchObject({
      type: 'lord-changed',
      legion: 'web',
      lord: { name: 'n2', epoch: '2', scroll: 'addr=10.0.0.2' },
    });
    expect(typeof (changed.lord as { uuid: unknown }).uuid).toBe('string');

    expect(legionctl(['--control', lab.path('n2.sock'), 'scroll', 'set', 'web', 'addr=10.0.0.22']).code).toBe(
      0,
    );
    await until(
      () => lines(log(0)).includes('scroll-changed n2 addr=10.0.0.22'),
      "n1's scroll-changed hook for n2",
    );
    await until(
      () => stream1.some((e) => e.type === 'scroll-changed' && (e.member as { name: string }).name === 'n2'),
      'scroll-changed for n2 on the stream',
    );
    const sc = stream1.find(
      (e) => e.type === 'scroll-changed' && (e.member as { name: string }).name === 'n2',
    )!;
    expect(sc).toMatchObject({ legion: 'web', member: { name: 'n2', scroll: 'addr=10.0.0.22' } });
    // the new lord saw itself become lord once, and its own scroll change once
    expect(lines(log(1)).filter((l) => l.startsWith('lord-changed n2'))).toHaveLength(1);
    expect(lines(log(1)).filter((l) => l === 'scroll-changed n2 addr=10.0.0.22')).toHaveLength(1);
    expect(n1.events('lord')).toHaveLength(0);
    void n2;
  });
});
