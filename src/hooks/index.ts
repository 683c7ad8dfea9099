export { type CheckState, ValorChecks, type ValorChecksInit } from './checks.js';
export { CronRunner, type CronRunnerInit } from './cron.js';
export { type DaemonEntryInit, DaemonSupervisor, type DaemonSupervisorInit } from './daemons.js';
export { childEnv, eventContext, type MemberJson, memberJson, viewContext } from './env.js';
export {
  bootOffsetMs,
  GUARD_SCRIPT,
  type GuardedCommand,
  type GuardedSpawner,
  type GuardOptions,
  leaseRefusal,
  runGuarded,
  systemGuarded,
  uptimeMs,
  type WorkRecordSink,
} from './guard.js';
export { LeaseCell, type LeaseSource, mayStartUnder, type WorkLease } from './lease.js';
export { type RunningCommand, type RunOptions, runCommand } from './process.js';
export { HookRunner, type HookRunnerInit } from './runner.js';
export { type CronSchedule, type ScheduleOptions, systemSchedule, timerSchedule } from './schedule.js';
export { type Spawner, systemSpawner } from './spawner.js';
export { type HookTimers, systemTimers, type TimerHandle, timersFrom } from './timers.js';
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
