/** The sim CLI as a user runs it: exit codes, --json on stdout only, determinism check, bad input. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'sim-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function sim(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', 'sim/cli.ts', ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const SMALL = `
name: small
duration: 6s
quorum: majority
nodes: [{name: n1, valor: 1}, {name: n2, valor: 2}, {name: n3, valor: 3}]
timeline: [{at: 3s, crash: lord}]
`;

describe('sim cli', () => {
  const file = join(dir, 'small.yaml');
  writeFileSync(file, SMALL);

  it('--json prints only the report on stdout, the timeline on stderr, and writes --svg', () => {
    const svg = join(dir, 'out.svg');
    const r = sim(file, '--seed', '3', '--json', '--svg', svg);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.out);
    expect(report).toMatchObject({ scenario: 'small', seed: 3, nodes: 3, quorum: 2, violationCount: 0 });
    expect(report.metrics.failovers).toHaveLength(1);
    expect(r.err).toContain('FAULT crash n3 (lord)');
    expect(readFileSync(svg, 'utf8')).toContain('<svg');
  });

  it('--check-determinism agrees with itself; --seeds prints distributions', () => {
    const d = sim(file, '--seed', '5', '--check-determinism');
    expect(d.code).toBe(0);
    expect(d.out).toMatch(/^deterministic: ([0-9a-f]{64}) \/ \1$/m);
    const s = sim(file, '--seeds', '3');
    expect(s.code).toBe(0);
    expect(s.out).toContain('scenario small over 3 seeds');
    expect(s.out).toMatch(/crash failover\s+\d/);
  });

  it('a bad scenario exits 2 with the file and key in the message', () => {
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'nodes: [{name: a}]\ntimeline: [{at: 1s, crash: zz}]\n');
    const r = sim(bad);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${bad}: timeline[0].crash: unknown node "zz"`);
    expect(r.out).toBe('');
  });
});
