/** Durations in scenarios: "250ms", "1.5s", "2m", "1h", or a number of milliseconds. */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const PATTERN = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/;

/** Milliseconds, or null when `v` is not a non-negative duration. */
export function parseDuration(v: unknown): number | null {
  if (typeof v === 'number') return Number.isFinite(v) && v >= 0 ? v : null;
  if (typeof v !== 'string') return null;
  const m = PATTERN.exec(v.trim());
  if (!m) return null;
  return Number(m[1]) * (UNIT_MS[m[2] ?? 'ms'] ?? Number.NaN);
}

/** Virtual time as seconds with millisecond precision, fixed width for aligned timelines. */
export function formatTime(ms: number): string {
  return `${(ms / 1000).toFixed(3).padStart(9)}s`;
}

export function formatDuration(ms: number): string {
  if (ms >= 3_600_000 && ms % 60_000 === 0) return `${ms / 3_600_000}h`;
  if (ms >= 60_000 && ms % 1000 === 0) return `${ms / 60_000}m`;
  if (ms >= 1000) return `${Number((ms / 1000).toFixed(3))}s`;
  return `${Number(ms.toFixed(3))}ms`;
}
