/**
 * "Exactly one runner", measured by the workloads themselves: per legion, across all hosts, at no
 * instant do two lord-only workloads (attached daemons, cron runs, lord-to-unlord hook spans) run.
 * Each case runs a real three-node legion (valor 100/200/300, loopback, YAML configs) whose daemon,
 * cron and hooks are test/helpers/workload.ts, applies one fault, stops everything and judges the
 * workload log: at most one runner at a time, epochs of the lordship they run under and
 * increasing, nothing left running. Ordering and counts only; no wall-clock limits.
 *
 * Faults here: a lord's legiond SIGKILLed and restarted (1), a stepdown with a daemon slow to
 * exit (2), and every hand-over path with a daemon that takes 300 ms to exit (3). Pauses are in
 * one-runner-pause.test.ts, reload / refusals / unlord epochs in one-runner-identity.test.ts.
 */
import { writeFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { isAlive, until } from '../helpers/procs.js';
import { type Analysis, describeAnalysis, workLegions } from '../helpers/workload.js';

const legions = workLegions();
afterEach(() => legions.cleanup());
const make = legions.make;

/** the last write of `from`'s daemons started before t0, and the first of `to`'s started after */
function handover(a: Analysis, from: string, to: string, t0: number) {
  const old = a.procs.filter((p) => p.node === from && p.kind === 'daemon' && p.startMs < t0);
  const next = a.procs.find((p) => p.node === to && p.kind === 'daemon' && p.startMs >= t0);
  return {
    oldLastMs: old.length > 0 ? Math.max(...old.map((p) => p.endMs)) : null,
    newFirstMs: next?.startMs ?? null,
  };
}

function expectHandover(a: Analysis, from: string, to: string, t0: number): void {
  const h = handover(a, from, to, t0);
  const why = describeAnalysis(a);
  expect(h.oldLastMs, `${from} ran a daemon before the fault\n${why}`).not.toBeNull();
  expect(h.newFirstMs, `${to} ran a daemon after the fault\n${why}`).not.toBeNull();
  expect(h.oldLastMs!, `${from}'s daemon is gone before ${to}'s starts\n${why}`).toBeLessThan(h.newFirstMs!);
}

describe('exactly one runner: crash and stepdown', () => {
  it('1. kill -9 of the lord: its daemon is gone before the next lord starts one; a restart adds no second copy', async () => {
    const L = make({ base: 47400, daemon: { termMs: 0 } });
    await L.startAll();
    await L.firstWrite('n3', 0);
    const m2 = L.proc('n2').mark();
    const t0 = Date.now();
    L.proc('n3').kill('SIGKILL');
    await L.proc('n2').waitEvent('lord', 10_000, m2);
    const n2First = await L.firstWrite('n2', t0);
    // the same host comes back (new UUID, valor 300): it takes the title back
    const m2b = L.proc('n2').mark();
    const t1 = Date.now();
    const n3b = L.start('n3');
    await n3b.waitEvent('lord', 15_000);
    await L.proc('n2').waitEvent('unlord', 10_000, m2b);
    await L.firstWrite('n3', t1, "the restarted n3's daemon");
    // a SIGKILLed legiond cannot run its unlord hook: its span stays open by construction, so
    // it is reported (describeAnalysis) but not counted; every other span is
    const { a, problems } = await L.finish({ ignoreSpan: (s) => s.node === 'n3' && s.startMs < t0 });
    expect(problems, describeAnalysis(a)).toEqual([]);
    expectHandover(a, 'n3', 'n2', t0);
    expect(n2First.epoch).not.toBeNull();
  });

  it('2. stepdown --for 500ms with a daemon that needs 2 s to exit (grace 3 s): no overlap, nothing left', async () => {
    const L = make({ base: 47410, daemon: { termMs: 2000, graceMs: 3000 } });
    await L.startAll();
    await L.firstWrite('n3', 0);
    const t0 = Date.now();
    const r = await L.ctl('n3', 'stepdown', 'web', '--for', '500ms');
    expect(r.code, r.stderr).toBe(0);
    // the next daemon: n2's, or n3's own again if its 500 ms ran out before the hand-over ended
    const next = await L.waitNew((l) => l.kind === 'daemon', t0, 'the next daemon', 20_000);
    if (next.node === 'n2') {
      // n3 is a candidate again and takes the title back: a second slow hand-over
      await L.firstWrite('n3', next.ms, "n3's daemon once it took the title back", 'daemon', 20_000);
    }
    const { a, problems } = await L.finish();
    expect(problems, describeAnalysis(a)).toEqual([]);
    expectHandover(a, 'n3', next.node, t0);
    if (next.node === 'n2') expectHandover(a, 'n2', 'n3', next.ms + 1);
  });
});

describe('3. every hand-over: the old lord daemon (300 ms to exit) is gone before the new one starts', () => {
  const slow = { termMs: 300, graceMs: 3000 };

  it('stepdown', async () => {
    const L = make({ base: 47420, daemon: slow });
    await L.startAll();
    await L.firstWrite('n3', 0);
    const t0 = Date.now();
    expect((await L.ctl('n3', 'stepdown', 'web', '--for', '30s')).code).toBe(0);
    await L.firstWrite('n2', t0);
    const { a, problems } = await L.finish();
    expect(problems, describeAnalysis(a)).toEqual([]);
    expectHandover(a, 'n3', 'n2', t0);
  });

  it('preemption by a better node started later', async () => {
    const L = make({ base: 47430, daemon: slow });
    await L.startAll(['n1', 'n2']);
    await L.firstWrite('n2', 0);
    const t0 = Date.now();
    L.start('n3');
    await L.firstWrite('n3', t0);
    const { a, problems } = await L.finish();
    expect(problems, describeAnalysis(a)).toEqual([]);
    expectHandover(a, 'n2', 'n3', t0);
  });

  it('legionctl valor set lowering the lord', async () => {
    const L = make({ base: 47440, daemon: slow });
    await L.startAll();
    await L.firstWrite('n3', 0);
    const t0 = Date.now();
    expect((await L.ctl('n3', 'valor', 'set', 'web', '50')).code).toBe(0);
    await L.firstWrite('n2', t0);
    const { a, problems } = await L.finish();
    expect(problems, describeAnalysis(a)).toEqual([]);
    expectHandover(a, 'n3', 'n2', t0);
  });

  it('a failing valor check', async () => {
    let flag = '';
    const L = make({
      base: 47450,
      daemon: slow,
      tweak: (s) => {
        flag = legions.lab().path(`fail-${s.name}`);
        s.checks = [{ command: `test ! -e ${flag}`, weight: 250, fall: 1, rise: 1 }];
      },
    });
    await L.startAll();
    await L.firstWrite('n3', 0);
    const t0 = Date.now();
    writeFileSync(legions.lab().path('fail-n3'), '');
    await L.firstWrite('n2', t0);
    const { a, problems } = await L.finish();
    expect(problems, describeAnalysis(a)).toEqual([]);
    expectHandover(a, 'n3', 'n2', t0);
  });

  it('quorum lease loss (quorum 2 of 3, the two others SIGSTOPped), then they come back', async () => {
    const L = make({ base: 47460, daemon: slow, quorum: 2 });
    await L.startAll();
    await L.firstWrite('n3', 0);
    const m3 = L.proc('n3').mark();
    L.proc('n1').kill('SIGSTOP');
    L.proc('n2').kill('SIGSTOP');
    const lost = await L.proc('n3').waitEvent('unlord', 10_000, m3);
    expect(lost.reason).toBe('lease');
    // its daemon must go, however it is stopped
    const pid = (await L.firstWrite('n3', 0)).pid;
    await until(() => !isAlive(pid), "n3's daemon to stop after its lease is lost", 10_000);
    const t0 = Date.now();
    L.proc('n1').kill('SIGCONT');
    L.proc('n2').kill('SIGCONT');
    await L.waitNew((l) => l.kind === 'daemon', t0, 'a daemon of the next lordship', 20_000);
    const { a, problems } = await L.finish();
    expect(problems, describeAnalysis(a)).toEqual([]);
    const next = a.procs.find((p) => p.kind === 'daemon' && p.startMs >= t0)!;
    const old = a.procs.filter((p) => p.node === 'n3' && p.kind === 'daemon' && p.startMs < t0);
    expect(Math.max(...old.map((p) => p.endMs)), describeAnalysis(a)).toBeLessThan(next.startMs);
  });
});
