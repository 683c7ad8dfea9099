/**
 * legiond as a subject of bench/engines.ts: a node per member on `backend: postgres` or
 * `backend: etcd`, its lord-only workload an attached daemon.
 */
import type { Servers } from '../engines.js';
import type { Subject } from './engine-subjects.js';

export function legiondSubjects(_servers: Servers): Subject[] {
  return [];
}
