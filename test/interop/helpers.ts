/**
 * Real uWSGI legion nodes next to real legiond nodes, on loopback. Every node appends
 * "<EVENT> <node>" to one hook file, so the test sees which process ran which hook.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { type Lab, legionctl, type Proc } from '../helpers/procs.js';

export const UWSGI = '/usr/bin/uwsgi';
export const LEGION = 'L';
export const CIPHER = 'aes-128-cbc';
/** whole seconds, as uWSGI wants them; legiond gets the same so both expire members alike */
export const FREQ_S = 1;
export const TOLERANCE_S = 3;

export function requireUwsgi(): void {
  if (!existsSync(UWSGI)) {
    throw new Error(`${UWSGI} is missing: install uwsgi-core (.ci/run does) to run the uWSGI interop tests`);
  }
}

/** A uWSGI master (plus its worker) in its own process group, so it can be killed whole. */
export class UwsgiNode {
  readonly log: string[] = [];
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  readonly child: ChildProcess;

  constructor(
    readonly name: string,
    readonly port: number,
    args: string[],
  ) {
    this.child = spawn(UWSGI, args, { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
    createInterface({ input: this.child.stderr! }).on('line', (l) => this.log.push(l));
    this.exited = new Promise((r) => this.child.on('exit', (code, signal) => r({ code, signal })));
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** SIGINT: uWSGI exits and sends its death announce. SIGKILL: the whole group, no announce. */
  kill(sig: 'SIGINT' | 'SIGKILL'): void {
    if (this.child.pid === undefined) return;
    try {
      if (sig === 'SIGKILL') process.kill(-this.child.pid, 'SIGKILL');
      else if (this.alive) this.child.kill('SIGINT');
    } catch {
      // already gone
    }
  }

  tail(n = 20): string {
    return this.log.slice(-n).join('\n');
  }
}

export interface UwsgiSpec {
  name: string;
  port: number;
  valor: number;
  peers: number[];
  secret: string;
  hookFile: string;
  scroll?: string;
  quorum?: number;
}

export function startUwsgi(s: UwsgiSpec): UwsgiNode {
  const hook = (event: string, word: string) => [
    `--legion-${event}`,
    `${LEGION} cmd:echo ${word} ${s.name} >> ${s.hookFile}`,
  ];
  const args = [
    '--master',
    '--die-on-term',
    '--socket',
    '127.0.0.1:0',
    '--legion',
    `${LEGION} 127.0.0.1:${s.port} ${s.valor} ${CIPHER}:${s.secret}`,
    ...s.peers.flatMap((p) => ['--legion-node', `${LEGION} 127.0.0.1:${p}`]),
    '--legion-freq',
    String(FREQ_S),
    '--legion-tolerance',
    String(TOLERANCE_S),
    ...hook('lord', 'LORD'),
    ...hook('unlord', 'UNLORD'),
    ...(s.scroll !== undefined ? ['--legion-scroll', `${LEGION} ${s.scroll}`] : []),
    ...(s.quorum !== undefined ? ['--legion-quorum', `${LEGION} ${s.quorum}`] : []),
  ];
  return new UwsgiNode(s.name, s.port, args);
}

export interface LegiondSpec {
  name: string;
  port: number;
  valor: number;
  peers: number[];
  secretFile: string;
  hookFile: string;
  quorum?: number;
  scroll?: string;
}

export function startLegiond(lab: Lab, s: LegiondSpec): Proc {
  const args = [
    '--legion',
    LEGION,
    '--protocol',
    'uwsgi',
    '--cipher',
    CIPHER,
    '--secret-file',
    s.secretFile,
    '--bind',
    `127.0.0.1:${s.port}`,
    ...s.peers.flatMap((p) => ['--peer', `127.0.0.1:${p}`]),
    '--valor',
    String(s.valor),
    '--interval',
    `${FREQ_S}s`,
    '--tolerance',
    `${TOLERANCE_S}s`,
    '--jitter',
    '0.1',
    '--node-name',
    s.name,
    '--control',
    controlOf(lab, s.name),
    '--on',
    `lord=echo LORD ${s.name} >> ${s.hookFile}`,
    '--on',
    `unlord=echo UNLORD ${s.name} >> ${s.hookFile}`,
    ...(s.quorum !== undefined ? ['--quorum', String(s.quorum)] : []),
    ...(s.scroll !== undefined ? ['--scroll', s.scroll] : []),
  ];
  return lab.legiond(s.name, args);
}

export function controlOf(lab: Lab, name: string): string {
  return lab.path(`${name}.sock`);
}

export interface MemberRow {
  uuid: string;
  name: string;
  valor: string;
  lord: boolean;
  lastSeenMs: number;
  scroll: string;
}

/** `legionctl members L --json` on a legiond node, or null when it cannot answer right now */
export function members(lab: Lab, name: string): MemberRow[] | null {
  const r = legionctl(['--control', controlOf(lab, name), 'members', LEGION, '--json']);
  if (r.code !== 0) return null;
  return JSON.parse(r.stdout) as MemberRow[];
}

export interface LegionStatus {
  name: string;
  lord: { uuid: string; name: string; valor: string } | null;
  counters: { rejected: Record<string, number> } & Record<string, unknown>;
  [k: string]: unknown;
}

export function status(lab: Lab, name: string): LegionStatus | null {
  const r = legionctl(['--control', controlOf(lab, name), 'status', '--json']);
  if (r.code !== 0) return null;
  const s = JSON.parse(r.stdout) as { legions: LegionStatus[] };
  return s.legions[0] ?? null;
}

/** "LORD u1", "UNLORD l2", ... in the order they were appended */
export function hookLines(file: string): string[] {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** node → lord hooks minus unlord hooks it ran: 1 while it holds the title, 0 otherwise */
export function netLordship(lines: string[]): Map<string, number> {
  const net = new Map<string, number>();
  for (const l of lines) {
    const [word, node] = l.split(' ');
    if (node === undefined) continue;
    net.set(node, (net.get(node) ?? 0) + (word === 'LORD' ? 1 : word === 'UNLORD' ? -1 : 0));
  }
  return net;
}

/** Polls `probe` every 250 ms until it returns a value other than undefined (bounded). */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined,
  diag: () => string = () => '',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = probe();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${String(last)})` : ''}\n${diag()}`,
      );
    }
    await new Promise((r) => setTimeout(r, 250));
  }
}
