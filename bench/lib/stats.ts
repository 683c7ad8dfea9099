/** Order statistics for benchmark samples. Nearest-rank percentiles: every figure is a real sample. */

export interface Summary {
  n: number;
  min: number;
  p50: number;
  p95: number;
  max: number;
  mean: number;
}

/** Nearest-rank percentile of sorted values, q in [0, 1]. */
export function percentile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil(q * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export function summarize(values: readonly number[]): Summary | null {
  if (values.length === 0) return null;
  const v = [...values].sort((a, b) => a - b);
  return {
    n: v.length,
    min: v[0]!,
    p50: percentile(v, 0.5),
    p95: percentile(v, 0.95),
    max: v[v.length - 1]!,
    mean: v.reduce((a, b) => a + b, 0) / v.length,
  };
}

export function sum(values: readonly number[]): number {
  return values.reduce((a, b) => a + b, 0);
}
