/**
 * Runs simulator jobs in a few child processes (the simulator is single-threaded and the jobs are
 * independent). Workers are forked with this process's execArgv, so tsx loads them too.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { SimJob, SimOutcome } from '../sim-jobs.js';

const WORKER = fileURLToPath(new URL('../sim-worker.ts', import.meta.url));

interface Reply {
  id: number;
  result?: SimOutcome;
  error?: string;
}

export async function runJobs(
  jobs: SimJob[],
  workers = Math.max(1, Math.min(2, availableParallelism())),
  onDone: (done: number, total: number) => void = () => undefined,
): Promise<SimOutcome[]> {
  const results: SimOutcome[] = new Array(jobs.length);
  let next = 0;
  let done = 0;
  const children: ChildProcess[] = [];
  const runOne = (child: ChildProcess): Promise<void> =>
    new Promise((resolve, reject) => {
      const feed = () => {
        if (next >= jobs.length) return resolve();
        const id = next++;
        child.send({ id, job: jobs[id] });
      };
      child.on('message', (m: Reply) => {
        if (m.error !== undefined) return reject(new Error(`simulator job ${m.id}: ${m.error}`));
        results[m.id] = m.result!;
        onDone(++done, jobs.length);
        feed();
      });
      child.on('exit', (code) => {
        if (next < jobs.length || done < jobs.length) reject(new Error(`simulator worker exited (${code})`));
      });
      feed();
    });
  try {
    const n = Math.min(workers, jobs.length);
    for (let i = 0; i < n; i++)
      children.push(fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    await Promise.all(children.map(runOne));
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
  return results;
}
