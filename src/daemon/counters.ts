/** Packet counters per legion; `rejected` is keyed by the decoder's error code. */
export class Counters {
  packetsIn = 0;
  accepted = 0;
  readonly rejected: Record<string, number> = {};

  reject(code: string): number {
    this.rejected[code] = (this.rejected[code] ?? 0) + 1;
    return this.rejected[code];
  }

  totalRejected(): number {
    return Object.values(this.rejected).reduce((a, b) => a + b, 0);
  }
}

/** At most one log line per key per window, with the number suppressed in between. */
export class RateLimiter {
  private readonly last = new Map<string, { at: number; suppressed: number }>();
  constructor(private readonly windowMs: number) {}

  /** returns the count suppressed since the last allowed line, or -1 when this one is suppressed */
  allow(key: string, now: number): number {
    const e = this.last.get(key);
    if (!e || now - e.at >= this.windowMs) {
      const suppressed = e?.suppressed ?? 0;
      this.last.set(key, { at: now, suppressed: 0 });
      return suppressed;
    }
    e.suppressed++;
    return -1;
  }
}
