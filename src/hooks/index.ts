export { type CheckState, ValorChecks, type ValorChecksInit } from './checks.js';
export { CronRunner, type CronRunnerInit } from './cron.js';
export { DaemonSupervisor, type DaemonSupervisorInit } from './daemons.js';
export { childEnv, eventContext, type MemberJson, memberJson, viewContext } from './env.js';
export { type RunningCommand, type RunOptions, runCommand } from './process.js';
export { HookRunner, type HookRunnerInit } from './runner.js';
export type * from './types.js';
export { commandText } from './types.js';
