import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ValorChecks } from '../../src/hooks/index.js';
import { effectiveValor } from '../../src/legion/types.js';
import { alive, eventually, recordingLogger } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'legiond-checks-'));
const all: ValorChecks[] = [];
afterEach(async () => {
  await Promise.all(all.splice(0).map((c) => c.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** a check whose result is the content of a file: "0" passes, anything else fails */
function switchable(name: string, weight: bigint, rise = 2, fall = 3) {
  const file = join(dir, name);
  writeFileSync(file, '0');
  const set = (code: number) => writeFileSync(file, String(code));
  return {
    set,
    entry: { command: `exit $(cat ${file})`, intervalMs: 10, timeoutMs: 2000, weight, rise, fall },
  };
}

describe('ValorChecks', () => {
  it('falls after `fall` failures, lowers valor by the weight, and rises after `rise` successes', async () => {
    const a = switchable('a', 30n);
    const changes: bigint[] = [];
    const checks = new ValorChecks({
      legion: 'web',
      entries: [a.entry],
      logger: recordingLogger(),
      onChange: (p) => changes.push(p),
    });
    all.push(checks);
    expect(checks.states()[0]?.state).toBe('ok');
    a.set(1);
    await checks.runOnce(0);
    await checks.runOnce(0);
    expect(checks.states()[0]).toMatchObject({ state: 'ok', consecutiveFail: 2, lastExitCode: 1 });
    expect(effectiveValor({ baseValor: 100n, valorPenalty: checks.penalty() })).toBe(100n);
    await checks.runOnce(0);
    expect(checks.states()[0]).toMatchObject({ state: 'failing', consecutiveFail: 3 });
    expect(effectiveValor({ baseValor: 100n, valorPenalty: checks.penalty() })).toBe(70n);
    expect(effectiveValor({ baseValor: 20n, valorPenalty: checks.penalty() })).toBe(0n);
    a.set(0);
    await checks.runOnce(0);
    expect(checks.states()[0]).toMatchObject({ state: 'failing', consecutiveOk: 1, lastExitCode: 0 });
    await checks.runOnce(0);
    expect(checks.states()[0]?.state).toBe('ok');
    expect(effectiveValor({ baseValor: 100n, valorPenalty: checks.penalty() })).toBe(100n);
    expect(changes).toEqual([30n, 0n]);
  });

  it('sums the weights of failing checks', async () => {
    const a = switchable('sa', 10n, 1, 1);
    const b = switchable('sb', 5n, 1, 1);
    const checks = new ValorChecks({ legion: 'web', entries: [a.entry, b.entry], logger: recordingLogger() });
    all.push(checks);
    a.set(1);
    b.set(2);
    await Promise.all([checks.runOnce(0), checks.runOnce(1)]);
    expect(checks.penalty()).toBe(15n);
    expect(effectiveValor({ baseValor: 18446744073709551615n, valorPenalty: checks.penalty() })).toBe(
      18446744073709551600n,
    );
  });

  it('counts a hung check as failed and kills its process group', async () => {
    const pidFile = join(dir, 'hung.pid');
    const checks = new ValorChecks({
      legion: 'web',
      entries: [
        {
          command: `sleep 100 & echo $! > ${pidFile}; wait`,
          intervalMs: 10,
          timeoutMs: 100,
          weight: 1n,
          rise: 1,
          fall: 1,
        },
      ],
      logger: recordingLogger(),
      killGraceMs: 100,
    });
    all.push(checks);
    await checks.runOnce(0);
    expect(checks.states()[0]).toMatchObject({ state: 'failing', consecutiveFail: 1, lastExitCode: null });
    const child = Number((await import('node:fs')).readFileSync(pidFile, 'utf8').trim());
    expect(await eventually(() => !alive(child))).toBe(true);
  });

  it('runs periodically once started and reports changes', async () => {
    const a = switchable('periodic', 7n, 1, 2);
    const changes: bigint[] = [];
    const checks = new ValorChecks({
      legion: 'web',
      entries: [a.entry],
      logger: recordingLogger(),
      onChange: (p) => changes.push(p),
    });
    all.push(checks);
    a.set(1);
    checks.start();
    expect(await eventually(() => changes.length === 1)).toBe(true);
    expect(effectiveValor({ baseValor: 10n, valorPenalty: checks.penalty() })).toBe(3n);
    a.set(0);
    expect(await eventually(() => changes.length === 2)).toBe(true);
    expect(changes).toEqual([7n, 0n]);
  });
});
