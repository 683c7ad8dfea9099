/**
 * Parsers for single config values. Each returns the value or a `Bad` carrying the message the
 * user sees after the key path, so the schema and the flag parser word errors the same way.
 */
import { Cron } from 'croner';
import type { HookCommand } from '../hooks/types.js';
import { U64_MAX } from '../u64.js';
import { parseHostPort } from './address.js';
import type { HostPort } from './types.js';

export { U64_MAX };

export class Bad {
  constructor(readonly message: string) {}
}

/** names travel in every announce; keep them short so a packet fits an MTU */
export const MAX_NAME_BYTES = 64;
export const MAX_SCROLL_BYTES = 1024;

export function parseU64(v: unknown): bigint | Bad {
  let n: bigint;
  if (typeof v === 'bigint') n = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) n = BigInt(v);
  else if (typeof v === 'string' && /^\d+$/.test(v.trim())) n = BigInt(v.trim());
  else return new Bad(v === undefined ? 'required' : 'expected a non-negative integer');
  if (n < 0n) return new Bad('expected a non-negative integer');
  if (n > U64_MAX) return new Bad(`must be at most ${U64_MAX} (2^64-1)`);
  return n;
}

export function parseIntIn(v: unknown, min: number, max: number): number | Bad {
  if (typeof v !== 'number' || !Number.isInteger(v)) {
    return new Bad(v === undefined ? 'required' : `expected an integer from ${min} to ${max}`);
  }
  if (v < min || v > max) return new Bad(`expected an integer from ${min} to ${max}`);
  return v;
}

/** A legion or node name: it is sent in every packet and shown in logs, so bounded and printable. */
export function parseName(v: unknown): string | Bad {
  if (typeof v !== 'string') return new Bad(v === undefined ? 'required' : 'expected a string');
  if (v.length === 0) return new Bad('must not be empty');
  if (Buffer.byteLength(v, 'utf8') > MAX_NAME_BYTES)
    return new Bad(`must be at most ${MAX_NAME_BYTES} bytes`);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (/[\u0000-\u001f\u007f]/.test(v)) return new Bad('must not contain control characters');
  return v;
}

export function parseAddress(v: unknown, rules: { ipOnly: boolean; allowPortZero: boolean }): HostPort | Bad {
  if (typeof v !== 'string') return new Bad(v === undefined ? 'required' : 'expected a "HOST:PORT" string');
  const r = parseHostPort(v, rules);
  return typeof r === 'string' ? new Bad(r) : r;
}

const COMMAND_HINT = 'expected a shell command string or an argv list of strings';

export function parseCommand(v: unknown): HookCommand | Bad {
  if (typeof v === 'string') return v.trim() === '' ? new Bad('command must not be empty') : v;
  if (Array.isArray(v)) {
    if (v.length === 0) return new Bad('argv list must not be empty');
    if (!v.every((a) => typeof a === 'string')) return new Bad('every argv item must be a string');
    if (v[0] === '') return new Bad('argv[0] must not be empty');
    return v as string[];
  }
  return new Bad(v === undefined ? 'required' : COMMAND_HINT);
}

/**
 * An event's hooks: one command, or a list of commands. In a list every item is one command, so
 * a single argv command is written as a nested list: `lord: [[/usr/local/bin/vip, up]]`.
 */
export function parseCommandList(v: unknown): HookCommand[] | Bad {
  if (typeof v === 'string') {
    const c = parseCommand(v);
    return c instanceof Bad ? c : [c];
  }
  if (!Array.isArray(v)) return new Bad('expected a command or a list of commands');
  const out: HookCommand[] = [];
  for (const [i, item] of v.entries()) {
    const c = parseCommand(item);
    if (c instanceof Bad) return new Bad(`item ${i}: ${c.message}`);
    out.push(c);
  }
  return out;
}

/**
 * A classic 5-field cron pattern (minute hour day-of-month month day-of-week), or 6 fields with
 * a leading seconds field for jobs that must run more often than once a minute.
 */
export function parseCronSchedule(v: unknown): string | Bad {
  if (typeof v !== 'string') return new Bad(v === undefined ? 'required' : 'expected a cron pattern string');
  const fields = v.trim().split(/\s+/);
  if (fields.length !== 5 && fields.length !== 6) {
    return new Bad(
      `"${v}": expected 5 fields (minute hour day-of-month month day-of-week), or 6 with leading seconds, got ${fields.length}`,
    );
  }
  try {
    // Without a callback croner only parses; nothing is scheduled.
    new Cron(v, { mode: '5-or-6-parts' });
  } catch (e) {
    return new Bad(`"${v}": ${e instanceof Error ? e.message : String(e)}`);
  }
  return v.trim();
}
