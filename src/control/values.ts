import { durationOf, MAX_DURATION_MS } from '../config/duration.js';
import { LegiondError } from '../errors.js';
import { U64_MAX } from '../u64.js';

export { MAX_DURATION_MS, U64_MAX };

/** a decimal unsigned 64-bit integer, as valor and epoch travel in JSON */
export function parseU64(text: string, what = 'value'): bigint {
  if (!/^[0-9]{1,20}$/.test(text)) {
    throw new LegiondError(
      'ERR_INVALID_VALUE',
      `${what} must be a decimal integer in 0..${U64_MAX}, got "${text}"`,
    );
  }
  const n = BigInt(text);
  if (n > U64_MAX) throw new LegiondError('ERR_INVALID_VALUE', `${what} ${text} is above ${U64_MAX}`);
  return n;
}

/** `250ms`, `30s`, `5m`, `1h30m`, `1.5h` (the config grammar, with a unit required) */
export function parseDuration(text: string): number {
  const ms = durationOf(text);
  if (ms === null) {
    throw new LegiondError('ERR_INVALID_VALUE', `invalid duration "${text}": use e.g. 500ms, 30s, 5m, 1h30m`);
  }
  if (ms <= 0 || ms > MAX_DURATION_MS) {
    throw new LegiondError('ERR_INVALID_VALUE', `duration "${text}" must be above 0 and at most 24 days`);
  }
  return ms;
}

/** compact, for "LAST HEARD" and messages: 120ms, 4.2s, 3m05s, 2h10m */
export function formatDuration(ms: number): string {
  const v = Math.max(0, Math.round(ms));
  if (v < 1000) return `${v}ms`;
  if (v < 60_000) return `${(Math.floor(v / 100) / 10).toFixed(1)}s`;
  const totalS = Math.floor(v / 1000);
  if (v < 3_600_000) return `${Math.floor(totalS / 60)}m${String(totalS % 60).padStart(2, '0')}s`;
  const totalM = Math.floor(totalS / 60);
  return `${Math.floor(totalM / 60)}h${String(totalM % 60).padStart(2, '0')}m`;
}
