/**
 * Fixture for guard.test.ts: a stand-in for legiond that runs one guarded workload and keeps its
 * lease, so the test can SIGKILL or SIGSTOP this process and watch the guard act alone.
 * argv[2]: JSON { pidFile, leaseMs, renewEveryMs (0: never), fenceGraceMs, ignoreTerm }.
 * stdout: one JSON line { guardPid } once the workload runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { runGuarded } from '../../src/hooks/guard.js';
import { LeaseCell } from '../../src/hooks/lease.js';

const o = JSON.parse(process.argv[2] ?? '{}') as {
  pidFile: string;
  leaseMs: number;
  renewEveryMs: number;
  fenceGraceMs: number;
  ignoreTerm: boolean;
};
const cell = new LeaseCell(() => performance.now());
const renew = () => cell.set({ epoch: 1n, fenceAtMs: performance.now() + o.leaseMs, mayStart: true });
renew();
const log = (obj: object, msg?: string) => process.stderr.write(`${JSON.stringify({ ...obj, msg })}\n`);
const logger = { debug: log, info: log, warn: log, error: log };
const body = o.ignoreTerm ? `trap '' TERM; while :; do sleep 0.05; done` : 'exec sleep 1000';
const run = runGuarded(`echo $$ > ${o.pidFile}; ${body}`, {
  env: process.env,
  stdin: null,
  timeoutMs: null,
  logger,
  logFields: {},
  lease: cell,
  fenceGraceMs: o.fenceGraceMs,
});
if (o.renewEveryMs > 0) setInterval(renew, o.renewEveryMs);
const ready = setInterval(() => {
  if (existsSync(o.pidFile) && readFileSync(o.pidFile, 'utf8').trim() !== '') {
    clearInterval(ready);
    process.stdout.write(`${JSON.stringify({ guardPid: run.guardPid })}\n`);
  }
}, 10);
void run.done.then((outcome) => {
  log(outcome, 'guarded run ended');
  process.exit(0);
});
