/** Starting real legiond processes (the built CLI in dist/) and asking them for their status. */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { controlRequest } from '../../src/control/client.js';
import type { LegionStatus, StatusResult } from '../../src/control/results.js';
import { type Proc, spawnProc } from './procs.js';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const LEGIOND_CLI = fileURLToPath(new URL('../../dist/src/cli/legiond.js', import.meta.url));

export interface LegiondSpec {
  legion: string;
  name: string;
  bind: string;
  peers?: string[];
  multicast?: { group: string; iface: string };
  valor: number;
  secretFile: string;
  /** undefined = the daemon's default */
  intervalMs?: number;
  toleranceMs?: number;
  /** event -> shell command */
  hooks?: Partial<Record<'lord' | 'unlord' | 'death', string>>;
  control: string;
  logFile: string;
  logLevel?: string;
}

/**
 * The Node flags legiond runs with in production: the NODE_OPTIONS of config/legiond.service, so
 * the bench measures what the unit deploys (BENCH_NODE_OPTIONS overrides them, '' for none).
 */
export function legiondNodeFlags(): string[] {
  const env = process.env.BENCH_NODE_OPTIONS;
  if (env !== undefined) return env.split(/\s+/).filter((f) => f !== '');
  const unit = readFileSync(new URL('../../config/legiond.service', import.meta.url), 'utf8');
  const m = /^Environment=NODE_OPTIONS=(.*)$/m.exec(unit);
  return m ? m[1]!.trim().split(/\s+/) : [];
}

export function legiondArgs(s: LegiondSpec): string[] {
  const a = [
    ...legiondNodeFlags(),
    LEGIOND_CLI,
    '--legion',
    s.legion,
    '--node-name',
    s.name,
    '--bind',
    s.bind,
  ];
  for (const p of s.peers ?? []) a.push('--peer', p);
  if (s.multicast) a.push('--multicast', s.multicast.group, '--multicast-interface', s.multicast.iface);
  a.push('--valor', String(s.valor), '--secret-file', s.secretFile, '--control', s.control);
  if (s.intervalMs !== undefined) a.push('--interval', `${s.intervalMs}ms`);
  if (s.toleranceMs !== undefined) a.push('--tolerance', `${s.toleranceMs}ms`);
  for (const [event, cmd] of Object.entries(s.hooks ?? {})) a.push('--on', `${event}=${cmd}`);
  a.push('--log-level', s.logLevel ?? process.env.BENCH_LOG_LEVEL ?? 'warn');
  return a;
}

export function startLegiond(s: LegiondSpec): Proc {
  return spawnProc(`legiond ${s.name}`, process.execPath, legiondArgs(s), { logFile: s.logFile });
}

/** The node's status for its one legion, or null while it cannot answer (starting, gone). */
export async function legiondStatus(control: string, timeoutMs = 2000): Promise<LegionStatus | null> {
  try {
    const r = (await controlRequest(control, 'status', {}, { timeoutMs })) as StatusResult;
    return r.legions[0] ?? null;
  } catch {
    return null;
  }
}
