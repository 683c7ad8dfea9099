/**
 * Starting real uWSGI legion nodes (Debian's uwsgi-core). Freq and tolerance are whole seconds.
 * `--die-on-term` makes SIGTERM a shutdown (uWSGI 2.0 otherwise reloads on SIGTERM), so SIGTERM
 * means the same thing for both daemons: leave cleanly, with a death announce.
 */
import { execFileSync } from 'node:child_process';
import { type Proc, spawnProc } from './procs.js';

export const UWSGI_BIN = process.env.UWSGI_BIN ?? '/usr/bin/uwsgi';

export interface UwsgiSpec {
  legion: string;
  name: string;
  /** 127.0.0.1:PORT */
  bind: string;
  peers: string[];
  valor: number;
  secret: string;
  freqS: number;
  toleranceS: number;
  lordHook?: string;
  logFile: string;
}

export function uwsgiArgs(s: UwsgiSpec): string[] {
  const a = ['--master', '--socket', '127.0.0.1:0', '--die-on-term'];
  a.push('--legion', `${s.legion} ${s.bind} ${s.valor} aes-128-cbc:${s.secret}`);
  for (const p of s.peers) a.push('--legion-node', `${s.legion} ${p}`);
  a.push('--legion-freq', String(s.freqS), '--legion-tolerance', String(s.toleranceS));
  if (s.lordHook) a.push('--legion-lord', `${s.legion} cmd:${s.lordHook}`);
  return a;
}

export function startUwsgi(s: UwsgiSpec): Proc {
  return spawnProc(`uwsgi ${s.name}`, UWSGI_BIN, uwsgiArgs(s), { logFile: s.logFile });
}

/** "2.0.21-debian", or null when uWSGI is not installed. */
export function uwsgiVersion(): string | null {
  try {
    return execFileSync(UWSGI_BIN, ['--version'], { encoding: 'utf8' }).trim();
  } catch {
    return null;
  }
}
