/**
 * config/legiond.service: `systemd-analyze verify` accepts it without a single warning, and what
 * the README promises of it holds (notify type, access, restart, kill mode, reload, capabilities,
 * a stop timeout above legiond's own shutdown bound at the config defaults).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfigText } from '../../src/config/index.js';
import { shutdownDeadlineMs } from '../../src/daemon/shutdown-deadline.js';
import { LEGIOND, ROOT, requireBuild } from '../helpers/procs.js';

const UNIT = join(ROOT, 'config', 'legiond.service');
const INSTALLED_BINARY = '/usr/local/bin/legiond';

let dir: string | null = null;
afterEach(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
  dir = null;
});

function settings(text: string): Map<string, string[]> {
  const m = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (t === '' || t.startsWith('#') || t.startsWith('[')) continue;
    const eq = t.indexOf('=');
    const key = t.slice(0, eq);
    m.set(key, [...(m.get(key) ?? []), t.slice(eq + 1)]);
  }
  return m;
}

function seconds(v: string): number {
  const m = /^(\d+)(s|min)?$/.exec(v);
  if (!m) throw new Error(`unexpected time span ${v}`);
  return Number(m[1]) * (m[2] === 'min' ? 60 : 1);
}

describe('config/legiond.service', () => {
  it('passes systemd-analyze verify with no warnings', () => {
    requireBuild();
    const which = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
    if (which.error || which.status !== 0)
      throw new Error(
        'systemd-analyze is required to verify config/legiond.service (Debian package: systemd; .ci/run installs it)',
      );
    const text = readFileSync(UNIT, 'utf8');
    expect(text).toContain(`ExecStart=${INSTALLED_BINARY} `);
    // verify checks that each Exec binary exists: point them at the built one
    dir = mkdtempSync(join(tmpdir(), 'legiond-unit-'));
    const copy = join(dir, 'legiond.service');
    writeFileSync(copy, text.replaceAll(INSTALLED_BINARY, LEGIOND));
    const r = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
    // verify exits 0 on settings it ignores; any line on stderr is a problem with the unit
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });

    // a typo must be caught the same way, or the assertion above proves nothing
    writeFileSync(
      copy,
      text.replaceAll(INSTALLED_BINARY, LEGIOND).replace('NotifyAccess=all', 'NotifyAccess=al'),
    );
    const bad = spawnSync('systemd-analyze', ['verify', copy], { encoding: 'utf8', timeout: 30_000 });
    expect(bad.stderr).toMatch(/notify access/i);
  });

  it("the README's lord-only unit passes systemd-analyze verify next to it", () => {
    requireBuild();
    const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
    const block = /```ini\n(# \/etc\/systemd\/system\/orchestrator\.service[^\n]*\n[\s\S]*?)```/.exec(
      readme,
    )?.[1];
    expect(block).toContain('StopPropagatedFrom=legiond.service');
    dir = mkdtempSync(join(tmpdir(), 'legiond-unit-'));
    writeFileSync(
      join(dir, 'legiond.service'),
      readFileSync(UNIT, 'utf8').replaceAll(INSTALLED_BINARY, LEGIOND),
    );
    const app = join(dir, 'orchestrator.service');
    // the application's binary does not exist here; any executable stands in for it
    writeFileSync(app, block!.replace('/usr/bin/orchestrator', '/bin/sleep infinity'));
    const r = spawnSync('systemd-analyze', ['verify', app], { encoding: 'utf8', timeout: 30_000 });
    if (r.error) throw new Error(`systemd-analyze is required (Debian package: systemd): ${r.error.message}`);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: '' });
  });

  it('says what the README promises of it', () => {
    const s = settings(readFileSync(UNIT, 'utf8'));
    expect(s.get('Type')).toEqual(['notify']);
    expect(s.get('NotifyAccess')).toEqual(['all']);
    expect(s.get('Restart')).toEqual(['always']);
    expect(s.get('KillMode')).toEqual(['control-group']);
    expect(s.get('ExecReload')).toEqual(['/bin/kill -HUP $MAINPID']);
    const caps = (s.get('CapabilityBoundingSet') ?? []).join(' ').split(/\s+/);
    expect(caps).toEqual(expect.arrayContaining(['CAP_NET_ADMIN', 'CAP_NET_RAW']));
    expect(s.get('RestrictAddressFamilies')?.[0]?.split(/\s+/)).toEqual(
      expect.arrayContaining(['AF_NETLINK', 'AF_PACKET', 'AF_UNIX', 'AF_INET']),
    );
    // legiond's own bound on a clean shutdown at the defaults, with room to close up after it
    const defaults = parseConfigText(
      'legions:\n  - name: web\n    bind: 127.0.0.1:4242\n    peers: [127.0.0.1:4243]\n    insecure: true\n',
      'defaults.yaml',
    );
    const stopSec = seconds(s.get('TimeoutStopSec')?.[0] ?? '');
    expect(stopSec * 1000).toBeGreaterThanOrEqual(shutdownDeadlineMs(defaults) + 5_000);
    // pings every WatchdogSec/2 need the default interval (250 ms) to step well inside that
    const watchdog = seconds(s.get('WatchdogSec')?.[0] ?? '');
    expect(watchdog * 1000).toBeGreaterThanOrEqual(2.5 * defaults.legions[0]!.intervalMs);
  });
});
