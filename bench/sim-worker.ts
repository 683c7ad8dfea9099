/** Child process that runs simulator jobs sent by bench/lib/pool.ts. */
import { runSimJob, type SimJob } from './sim-jobs.js';

process.on('message', (m: { id: number; job: SimJob }) => {
  try {
    process.send!({ id: m.id, result: runSimJob(m.job) });
  } catch (e) {
    process.send!({ id: m.id, error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
  }
});
