/**
 * The one duration grammar of config files, legionctl and scenarios: a number with a unit
 * ("250ms", "1.5s", "2m", "1h", "1d") or several ("1h30m"); config files also take a bare integer
 * number of milliseconds.
 */

/** setTimeout cannot wait longer than this; a longer duration would silently fire at once. */
export const MAX_DURATION_MS = 2_147_483_647;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

export interface DurationRules {
  /** a bare number (milliseconds) is accepted; legionctl refuses it so "30" is never misread */
  bareMs?: boolean;
  /** a fraction of a millisecond is kept (virtual time); otherwise it is refused */
  fractionalMs?: boolean;
}

/** Milliseconds, or null when `text` is not a duration under `rules`. */
export function durationOf(text: string, rules: DurationRules = {}): number | null {
  const t = text.trim();
  if (t === '') return null;
  let ms: number;
  if (/^\d+(?:\.\d+)?$/.test(t)) {
    if (!rules.bareMs) return null;
    ms = Number(t);
  } else {
    ms = 0;
    PART.lastIndex = 0;
    let pos = 0;
    for (let m = PART.exec(t); m !== null; m = PART.exec(t)) {
      ms += Number(m[1]) * (UNIT_MS[m[2]!] ?? Number.NaN);
      pos = PART.lastIndex;
    }
    if (pos !== t.length) return null;
  }
  if (!rules.fractionalMs && !Number.isInteger(ms)) {
    // "1.5ms" is not a whole number of milliseconds; refuse rather than round silently
    const rounded = Math.round(ms);
    if (Math.abs(rounded - ms) > 1e-6) return null;
    ms = rounded;
  }
  return Number.isFinite(ms) ? ms : null;
}

/** Config values: milliseconds, or null when `v` is not a duration (negative, unknown unit, too large). */
export function parseDuration(v: unknown): number | null {
  let ms: number | null;
  if (typeof v === 'number') ms = Number.isInteger(v) && v >= 0 ? v : null;
  else if (typeof v === 'string') ms = durationOf(v, { bareMs: true });
  else ms = null;
  return ms !== null && ms <= MAX_DURATION_MS ? ms : null;
}

export const DURATION_HINT =
  'expected a duration like "250ms", "1.5s", "2m", "1h30m" or an integer number of milliseconds';
