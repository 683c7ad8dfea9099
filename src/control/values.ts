import { LegiondError } from '../errors.js';
import { U64_MAX } from '../u64.js';

export { U64_MAX };

/** Node clamps longer timers to 1 ms, so no duration may exceed this */
export const MAX_DURATION_MS = 2 ** 31 - 1;

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

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `30s`, `5m`, `1h30m`, `1.5h`; a unit is required so "30" is never misread */
export function parseDuration(text: string): number {
  const s = text.trim();
  const re = /([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let pos = 0;
  for (let m = re.exec(s); m !== null; m = re.exec(s)) {
    total += Number(m[1]) * (UNIT_MS[m[2]!] ?? Number.NaN);
    pos = re.lastIndex;
  }
  if (s === '' || pos !== s.length) {
    throw new LegiondError('ERR_INVALID_VALUE', `invalid duration "${text}": use e.g. 500ms, 30s, 5m, 1h30m`);
  }
  const ms = Math.round(total);
  if (!Number.isFinite(ms) || ms <= 0 || ms > MAX_DURATION_MS) {
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
