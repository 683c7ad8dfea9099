import { describe, expect, it } from 'vitest';
import { formatStatus } from '../../src/cli/format.js';
import type { LegionStatus } from '../../src/control/results.js';

const base: LegionStatus = {
  legion: 'jobs',
  protocol: 'native',
  uuid: 'u-self',
  name: 'alpha',
  lord: null,
  epoch: '41',
  quorum: 1,
  quorumMet: false,
  votes: 0,
  baseValor: '100',
  valor: '100',
  draining: false,
  drainingUntilMs: null,
  phase: 'running',
  members: 3,
  counters: {
    packetsSent: 12,
    packetsReceived: 9,
    bytesSent: 0,
    bytesReceived: 0,
    accepted: 0,
    rejected: {},
  },
  checks: [],
};

describe('formatStatus in strong mode', () => {
  it('names the backend and says plainly when the engine does not answer', () => {
    const out = formatStatus({
      pid: 7,
      legions: [
        {
          ...base,
          backend: 'etcd',
          engine: {
            backend: 'etcd',
            reachable: false,
            unreachableSince: '2026-01-01T00:00:00.000Z',
            lastError: 'renew: no answer within 1000 ms',
            requests: 12,
            failures: 3,
          },
        },
      ],
    });
    expect(out).toContain('legion jobs (etcd)');
    expect(out).toMatch(
      /engine +etcd UNREACHABLE since 2026-01-01T00:00:00.000Z: no lord \(renew: no answer within 1000 ms\); 12 requests, 3 failed/,
    );
  });

  it('a reachable engine, and a UDP legion shows no engine row', () => {
    const ok = formatStatus({
      pid: 7,
      legions: [
        {
          ...base,
          backend: 'etcd',
          engine: {
            backend: 'etcd',
            reachable: true,
            unreachableSince: null,
            lastError: null,
            requests: 5,
            failures: 0,
          },
        },
      ],
    });
    expect(ok).toMatch(/engine +etcd reachable; 5 requests, 0 failed/);
    const udp = formatStatus({ pid: 7, legions: [base] });
    expect(udp).toContain('legion jobs (native)');
    expect(udp).not.toMatch(/engine/);
  });
});
