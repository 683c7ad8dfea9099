/**
 * One clock for both sides of a measurement: hooks stamp CLOCK_REALTIME (`date +%s%N`), the bench
 * reads the same clock with sub-millisecond resolution through the performance time origin.
 */

/** Wall clock in fractional milliseconds since the epoch. */
export function wallMs(): number {
  return performance.timeOrigin + performance.now();
}

/** `date +%s%N` output to fractional epoch milliseconds. */
export function nsTextToMs(text: string): number | null {
  const t = text.trim();
  if (!/^\d{10,}$/.test(t)) return null;
  const ns = BigInt(t);
  return Number(ns / 1000n) / 1000;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

/** Polls `probe` until it returns a value other than undefined, or throws after `timeoutMs`. */
export async function until<T>(
  what: string,
  timeoutMs: number,
  probe: () => T | undefined | Promise<T | undefined>,
  everyMs = 10,
): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (performance.now() > deadline)
      throw new Error(`timed out after ${Math.round(timeoutMs)} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
