/** Durations in config: "250ms", "1s", "1.5s", "2m", "1h", or an integer number of milliseconds. */

/** setTimeout cannot wait longer than this; a longer duration would silently fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** Milliseconds, or null when `v` is not a duration (negative, fractional ms, unknown unit, too large). */
export function parseDuration(v: unknown): number | null {
  let ms: number;
  if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0) return null;
    ms = v;
  } else if (typeof v === 'string') {
    const m = PATTERN.exec(v.trim());
    if (!m) return null;
    const unit = m[2] ?? 'ms';
    ms = Number(m[1]) * (UNIT_MS[unit] ?? Number.NaN);
    // "1.5ms" is not a whole number of milliseconds; refuse rather than round silently.
    if (!Number.isInteger(ms)) {
      const rounded = Math.round(ms);
      if (Math.abs(rounded - ms) > 1e-6) return null;
      ms = rounded;
    }
  } else {
    return null;
  }
  return ms <= MAX_DURATION_MS ? ms : null;
}

export const DURATION_HINT =
  'expected a duration like "250ms", "1.5s", "2m" or an integer number of milliseconds';
