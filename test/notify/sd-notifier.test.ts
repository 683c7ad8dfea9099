/**
 * SdNotifier on a fake clock and a recording sink: when READY, STATUS, RELOADING, STOPPING and
 * WATCHDOG go out. The datagrams themselves are tested against a real socket in
 * test/daemon/sd-notify.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { packageVersion } from '../../src/cli/version.js';
import { notifierFromEnv, SdNotifier } from '../../src/daemon/notify/sd-notifier.js';
import type { ObservedLegion } from '../../src/daemon/observer.js';
import type { LegionView, MemberInfo } from '../../src/legion/types.js';

function member(name: string, self: boolean, lord = false): MemberInfo {
  return {
    uuid: `${name}-uuid`,
    name,
    valor: 100n,
    lord,
    arbiter: false,
    observer: false,
    draining: false,
    self,
    scroll: new Uint8Array(),
    lastSeenMs: 0,
    vote: null,
    epoch: 1n,
  };
}

class FakeLegion implements ObservedLegion {
  readonly cfg = { intervalMs: 100 };
  members: MemberInfo[];
  lord: MemberInfo | null = null;
  epoch = 0n;
  constructor(readonly name: string) {
    this.members = [member(`${name}-self`, true)];
  }
  view(): LegionView {
    const self = this.members.find((m) => m.self)!;
    return {
      legion: this.name,
      self,
      lord: this.lord,
      epoch: this.epoch,
      quorum: 1,
      quorumMet: true,
      votes: 1,
      baseValor: 100n,
      valor: 100n,
      draining: false,
      drainingUntilMs: null,
      members: this.members,
      phase: 'running',
    };
  }
}

function setup(watchdogEveryMs: number | null = null) {
  let now = 1000;
  const sent: string[] = [];
  const timers: Array<() => void> = [];
  const n = new SdNotifier({
    sink: { send: (m) => void sent.push(m), close: async () => undefined },
    watchdogEveryMs,
    now: () => now,
    monotonicUsec: () => 42n,
    setTimer: (f) => void timers.push(f),
  });
  return {
    n,
    sent,
    timers,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

describe('SdNotifier', () => {
  it('READY waits for every legion: one heard a peer, the other only after its grace', () => {
    const { n, sent, advance } = setup();
    const web = new FakeLegion('web');
    const db = new FakeLegion('db');
    n.legionRunning(web);
    n.legionRunning(db);
    web.members.push(member('n2', false, true));
    web.lord = web.members[1]!;
    web.epoch = 3n;
    n.stepped(web);
    n.stepped(db);
    expect(sent.some((m) => m.startsWith('READY=1'))).toBe(false);
    advance(199);
    n.stepped(db);
    expect(n.isReady).toBe(false);
    advance(1);
    n.stepped(db);
    expect(n.isReady).toBe(true);
    expect(sent.filter((m) => m.startsWith('READY=1'))).toEqual([
      'READY=1\nSTATUS=web: follower, lord n2, epoch 3; db: follower, lord none, epoch 0',
    ]);
  });

  it('STATUS is sent when it changes, and only then', () => {
    const { n, sent, advance } = setup();
    const web = new FakeLegion('web');
    n.legionRunning(web);
    advance(250);
    n.stepped(web);
    const count = () => sent.filter((m) => m.includes('STATUS=')).length;
    const before = count();
    advance(150);
    n.stepped(web);
    expect(count()).toBe(before);
    web.lord = web.members[0]!;
    web.epoch = 1n;
    // a step within 100 ms of the last look does not look again
    advance(50);
    n.stepped(web);
    expect(count()).toBe(before);
    advance(60);
    n.stepped(web);
    expect(sent.at(-1)).toBe('STATUS=web: lord, lord web-self, epoch 1');
  });

  it('WATCHDOG only while every legion keeps stepping; a leaving legion no longer counts', () => {
    const { n, sent, advance } = setup(500);
    const web = new FakeLegion('web');
    const db = new FakeLegion('db');
    n.legionRunning(web);
    n.legionRunning(db);
    const pings = () => sent.filter((m) => m === 'WATCHDOG=1').length;
    for (let i = 0; i < 10; i++) {
      advance(100);
      n.stepped(web);
      n.stepped(db);
    }
    expect(pings()).toBe(2);
    // db wedged: web keeps stepping; once db's last step is a period old, no ping vouches for it
    for (let i = 0; i < 6; i++) {
      advance(100);
      n.stepped(web);
    }
    const wedged = pings();
    expect(wedged).toBeLessThanOrEqual(3);
    for (let i = 0; i < 20; i++) {
      advance(100);
      n.stepped(web);
    }
    expect(pings()).toBe(wedged);
    n.legionLeaving(db);
    advance(100);
    n.stepped(web);
    expect(pings()).toBe(wedged + 1);
  });

  it('RELOADING with MONOTONIC_USEC then READY; STOPPING ends everything', () => {
    const { n, sent, advance } = setup(100);
    const web = new FakeLegion('web');
    n.reloading();
    n.reloaded();
    expect(sent.some((m) => m.startsWith('RELOADING'))).toBe(false);
    n.legionRunning(web);
    advance(300);
    n.stepped(web);
    expect(n.isReady).toBe(true);
    sent.length = 0;
    n.reloading();
    n.reloaded();
    expect(sent.slice(0, 2)).toEqual(['RELOADING=1\nMONOTONIC_USEC=42', 'READY=1']);
    n.stopping();
    n.stopping();
    advance(1000);
    n.stepped(web);
    n.reloading();
    n.reloaded();
    expect(sent.slice(2)).toEqual(['STOPPING=1']);
  });

  it('a restarted helper gets READY and the last STATUS again', () => {
    const { n, sent, advance } = setup();
    const web = new FakeLegion('web');
    n.legionRunning(web);
    advance(300);
    n.stepped(web);
    sent.length = 0;
    n.resend();
    expect(sent).toEqual(['READY=1', 'STATUS=web: follower, lord none, epoch 0']);
  });
});

describe('notifierFromEnv', () => {
  const logger = { info: () => undefined, warn: () => undefined, error: () => undefined } as never;
  it('is null without NOTIFY_SOCKET or with an unsupported one, and takes the variables out of the environment', () => {
    for (const NOTIFY_SOCKET of [undefined, 'relative/path', 'vsock:2:1234']) {
      const env: NodeJS.ProcessEnv = { WATCHDOG_USEC: '1000000', WATCHDOG_PID: '1', KEEP: 'x' };
      if (NOTIFY_SOCKET !== undefined) env.NOTIFY_SOCKET = NOTIFY_SOCKET;
      expect(notifierFromEnv(env, logger)).toBeNull();
      expect(env).toEqual({ KEEP: 'x' });
    }
  });
});

describe('packageVersion', () => {
  it('finds package.json from the source layout too', () => {
    expect(packageVersion(new URL('../../src/cli/version.ts', import.meta.url).href)).toMatch(
      /^\d+\.\d+\.\d+/,
    );
    expect(packageVersion('file:///nonexistent/dir/file.js')).toBe('unknown');
  });
});
