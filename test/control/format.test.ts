import { describe, expect, it } from 'vitest';
import {
  flattenMembers,
  formatEvent,
  formatLord,
  formatMembersTable,
  formatStatus,
  shorten,
} from '../../src/cli/format.js';
import type { LegionStatus, MemberRow, MembersResult } from '../../src/control/results.js';

const member = (over: Partial<MemberRow>): MemberRow => ({
  uuid: 'u',
  name: 'n',
  valor: '1',
  lord: false,
  arbiter: false,
  observer: false,
  draining: false,
  self: false,
  lastSeenMs: 0,
  scroll: '',
  ...over,
});

const members: MembersResult = {
  legions: [
    {
      legion: 'web',
      members: [
        member({
          uuid: 'aaaa',
          name: 'alpha',
          valor: '100',
          lord: true,
          self: true,
          scroll: 'addr=10.0.0.5:6379',
        }),
        member({
          uuid: 'bbbbbbbb',
          name: 'b',
          valor: '0',
          arbiter: true,
          lastSeenMs: 120,
          scroll: 'é'.repeat(40),
        }),
        member({
          uuid: 'cc',
          name: 'gamma-long',
          valor: '7',
          draining: true,
          lastSeenMs: 4200,
          scroll: 'a\nb',
        }),
      ],
    },
  ],
};

describe('formatMembersTable', () => {
  it('aligns columns and marks lord, self, arbiter, draining', () => {
    const lines = formatMembersTable(members).split('\n');
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(/^NAME {8}UUID {6}VALOR {9}LORD {2}LAST HEARD {2}SCROLL$/);
    // every column starts at the same offset on every line
    for (const col of ['UUID', 'VALOR', 'LAST HEARD', 'SCROLL']) {
      const at = lines[0]!.indexOf(col);
      for (const l of lines.slice(1)) expect(l[at - 1], `${col} in ${l}`).toBe(' ');
      for (const l of lines.slice(1)) expect(l[at], `${col} in ${l}`).not.toBe(' ');
    }
    expect(lines[1]).toMatch(/^alpha\s+aaaa\s+100\s+\*\s+self\s+addr=10.0.0.5:6379$/);
    expect(lines[2]).toMatch(/^b\s+bbbbbbbb\s+0 \(arbiter\)\s+120ms ago\s+é{31}…$/);
    expect(lines[3]).toMatch(/^gamma-long\s+cc\s+7 \(draining\)\s+4\.2s ago\s+a\\nb$/);
  });

  it('adds a LEGION column only for several legions, and shows an empty scroll as -', () => {
    const two: MembersResult = {
      legions: [...members.legions, { legion: 'db', members: [member({ name: 'x' })] }],
    };
    const lines = formatMembersTable(two).split('\n');
    expect(lines[0]!.startsWith('LEGION')).toBe(true);
    expect(lines[4]).toMatch(/^db\s+x\s+u\s+1\s+0ms ago\s+-$/);
    expect(formatMembersTable(members).startsWith('NAME')).toBe(true);
  });

  it('flattens members for --json with their legion', () => {
    const flat = flattenMembers(members);
    expect(flat.map((m) => [m.legion, m.uuid, m.lord, m.lastSeenMs])).toEqual([
      ['web', 'aaaa', true, 0],
      ['web', 'bbbbbbbb', false, 120],
      ['web', 'cc', false, 4200],
    ]);
  });

  it('shorten keeps short text and cuts long text to exactly the width', () => {
    expect(shorten('abc', 32)).toBe('abc');
    expect(shorten('x'.repeat(32), 32)).toBe('x'.repeat(32));
    expect(Array.from(shorten('🦄'.repeat(33), 32))).toHaveLength(32);
  });
});

describe('formatStatus', () => {
  const legion: LegionStatus = {
    legion: 'web',
    protocol: 'native',
    uuid: 'u-self',
    name: 'alpha',
    lord: { uuid: 'u-b', name: 'beta' },
    epoch: '18446744073709551615',
    quorum: 2,
    quorumMet: false,
    votes: 1,
    baseValor: '100',
    valor: '60',
    draining: true,
    drainingUntilMs: 5000,
    phase: 'running',
    members: 3,
    counters: {
      packetsSent: 5,
      packetsReceived: 6,
      bytesSent: 2048,
      bytesReceived: 10,
      accepted: 4,
      rejected: { ERR_AUTH: 2, ERR_REPLAY: 0 },
    },
    checks: [
      {
        command: 'curl -f localhost',
        state: 'failing',
        consecutiveOk: 0,
        consecutiveFail: 3,
        lastExitCode: 7,
      },
    ],
  };

  it('shows each legion with lord, epoch, valor, quorum, counters and checks', () => {
    const text = formatStatus({ pid: 99, legions: [legion] });
    expect(text).toContain('pid 99');
    expect(text).toContain('legion web (native)');
    expect(text).toMatch(/lord\s+beta \(u-b\)\n/);
    expect(text).toMatch(/epoch\s+18446744073709551615/);
    expect(text).toMatch(/valor\s+60 \(base 100, lowered by checks\)/);
    expect(text).toMatch(/quorum\s+2 \(NOT met, 1 vote for this node\)/);
    expect(text).toMatch(/draining/);
    expect(text).toMatch(/sent 5 \(2\.0 KiB\), received 6 \(10 B\)/);
    expect(text).toMatch(/rejected\s+ERR_AUTH=2$/m);
    expect(text).toMatch(/check\s+"curl -f localhost" failing \(3 failed in a row\)/);
  });

  it('says none when there is no lord and marks this node as lord', () => {
    expect(formatStatus({ pid: 1, legions: [{ ...legion, lord: null }] })).toMatch(/lord\s+none/);
    expect(
      formatStatus({ pid: 1, legions: [{ ...legion, lord: { uuid: 'u-self', name: 'alpha' } }] }),
    ).toContain('this node');
  });
});

describe('formatEvent', () => {
  it('prints one line with time, legion, type and details', () => {
    const line = formatEvent({
      legion: 'web',
      type: 'node-left',
      epoch: '8',
      lord: { uuid: 'u-a', name: 'alpha' },
      member: { uuid: 'u-b', name: 'be\nta' },
      reason: 'timeout',
      at: '2025-01-02T03:04:05.000Z',
    });
    expect(line).toBe(
      '2025-01-02T03:04:05.000Z web node-left epoch=8 lord=alpha(u-a) member=be\\nta(u-b) reason=timeout',
    );
    expect(formatEvent({ legion: 'db', type: 'unlord', epoch: '9', lord: null, at: 'T' })).toBe(
      'T db unlord epoch=9 lord=none',
    );
  });
});

describe('formatEvent for follower events', () => {
  it('prints the scroll of the lord a lord-changed event names, and a scroll change', () => {
    const base = { legion: 'web', epoch: '9', at: '2025-01-02T03:04:05.000Z' };
    expect(
      formatEvent({
        ...base,
        type: 'lord-changed',
        lord: { uuid: 'u-b', name: 'beta', epoch: '9', scroll: 'addr=1.2.3.4:5' },
      }),
    ).toBe('2025-01-02T03:04:05.000Z web lord-changed epoch=9 lord=beta(u-b) lord_scroll="addr=1.2.3.4:5"');
    expect(formatEvent({ ...base, type: 'lord-changed', lord: null })).toBe(
      '2025-01-02T03:04:05.000Z web lord-changed epoch=9 lord=none',
    );
    expect(
      formatEvent({
        ...base,
        type: 'scroll-changed',
        lord: null,
        member: { uuid: 'u-c', name: 'gamma', scroll: 'a\nb' },
      }),
    ).toBe('2025-01-02T03:04:05.000Z web scroll-changed epoch=9 lord=none member=gamma(u-c) scroll="a\\nb"');
  });
});

describe('formatLord', () => {
  it('shows the lord, its epoch and scroll, or that there is none', () => {
    expect(
      formatLord({ legion: 'web', lord: { uuid: 'u', name: 'n\t1', epoch: '3', scroll: '', self: false } }),
    ).toBe('web: lord n\\t1 (u)\n  epoch   3\n  scroll  -');
    expect(formatLord({ legion: 'web', lord: null })).toBe('web: no lord');
  });
});
