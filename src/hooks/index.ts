export { type CheckState, ValorChecks, type ValorChecksInit } from './checks.js';
export { CronRunner, type CronRunnerInit } from './cron.js';
export { type DaemonEntryInit, DaemonSupervisor, type DaemonSupervisorInit } from './daemons.js';
export { childEnv, eventContext, type MemberJson, memberJson, viewContext } from './env.js';
export {
  bootOffsetMs,
  GUARD_SCRIPT,
  type GuardedCommand,
  type GuardOptions,
  leaseRefusal,
  runGuarded,
  uptimeMs,
  type WorkRecordSink,
} from './guard.js';
export { LeaseCell, type LeaseSource, mayStartUnder, type WorkLease } from './lease.js';
export { type RunningCommand, type RunOptions, runCommand } from './process.js';
export { HookRunner, type HookRunnerInit } from './runner.js';
export type * from './types.js';
export { commandText } from './types.js';
export {
  procStartTime,
  readWorkRecords,
  stopLeftovers,
  type WorkRecord,
  WorkRecords,
  workRecordsPath,
} from './work-records.js';
