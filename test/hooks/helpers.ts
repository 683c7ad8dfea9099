import { readFileSync } from 'node:fs';
import type { HookLogger } from '../../src/hooks/types.js';
import type { HookEvent, LegionEvent, MemberInfo } from '../../src/legion/types.js';

export interface LogEntry {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string | undefined;
}

export function recordingLogger(): HookLogger & { entries: LogEntry[] } {
  const entries: LogEntry[] = [];
  const at =
    (level: LogEntry['level']) =>
    (obj: object, msg?: string): void => {
      entries.push({ level, obj: obj as Record<string, unknown>, msg });
    };
  return { entries, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

export function member(over: Partial<MemberInfo> & { uuid: string; name: string }): MemberInfo {
  return {
    valor: 1n,
    lord: false,
    arbiter: false,
    observer: false,
    draining: false,
    self: false,
    scroll: new Uint8Array(0),
    lastSeenMs: 0,
    vote: null,
    epoch: 0n,
    ...over,
  };
}

export const SELF = member({
  uuid: '00000000-0000-4000-8000-000000000001',
  name: 'alpha',
  valor: 18446744073709551615n,
  self: true,
  lord: true,
  scroll: new TextEncoder().encode('addr=10.0.0.1'),
  lastSeenMs: 1000,
});
export const OTHER = member({
  uuid: '00000000-0000-4000-8000-000000000002',
  name: 'beta',
  valor: 5n,
  scroll: new TextEncoder().encode('addr=10.0.0.2'),
  lastSeenMs: 900,
});

export function legionEvent(type: HookEvent, over: Partial<LegionEvent> = {}): LegionEvent {
  return { type, epoch: 7n, self: SELF, lord: SELF, members: [SELF, OTHER], atMs: 1000, ...over };
}

/** true while `pid` exists and is not a zombie (an orphan's reaper may be slow to collect it) */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** polls `cond` every 10 ms, at most `tries` times */
export async function eventually(cond: () => boolean, tries = 300): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 10));
  }
  return cond();
}

export function readPid(file: string): number {
  return Number(readFileSync(file, 'utf8').trim());
}
