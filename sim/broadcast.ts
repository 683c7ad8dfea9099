/**
 * Planning one broadcast: the copies the network makes of it (delays, losses, duplicates), drawn
 * from the run's PRNG receiver by receiver, sorted by arrival into one fan-out event. One queue
 * entry per broadcast rather than per copy keeps the queue small when a thousand nodes announce
 * at once (sim/events.ts).
 */
import type { SimEvent } from './events.js';
import type { Network } from './network.js';
import type { Prng } from './prng.js';

export type Fanout = Extract<SimEvent, { k: 'fanout' }>;

export class BroadcastPlanner {
  private readonly delayBuf: number[] = [];
  // scratch for every copy (two per receiver at most: duplication), reused across broadcasts
  private copyAt = new Float64Array(0);
  private copyTo = new Int32Array(0);

  constructor(
    private readonly network: Network,
    private readonly rng: Prng,
  ) {}

  /** The copies of `bytes` from `from` to every other of `n` slots (or those `only` accepts); null when none arrives. */
  plan(
    from: number,
    bytes: Uint8Array,
    now: number,
    n: number,
    only?: (to: number) => boolean,
  ): Fanout | null {
    const buf = this.delayBuf;
    if (this.copyAt.length < 2 * n) {
      this.copyAt = new Float64Array(2 * n);
      this.copyTo = new Int32Array(2 * n);
    }
    const at = this.copyAt;
    const to = this.copyTo;
    let m = 0;
    for (let t = 0; t < n; t++) {
      if (t === from || (only !== undefined && !only(t))) continue;
      this.network.delays(from, t, this.rng, buf);
      for (let j = 0; j < buf.length; j++) {
        at[m] = now + buf[j]!;
        to[m] = t;
        m++;
      }
    }
    if (m === 0) return null;
    // by arrival; copies arriving at the same instant keep the receivers' order
    const order = new Int32Array(m);
    for (let i = 0; i < m; i++) order[i] = i;
    order.sort((i, j) => at[i]! - at[j]! || i - j);
    const ev: Fanout = {
      k: 'fanout',
      from,
      bytes,
      at: new Float64Array(m),
      to: new Int32Array(m),
      next: 0,
      opened: null,
    };
    for (let i = 0; i < m; i++) {
      ev.at[i] = at[order[i]!]!;
      ev.to[i] = to[order[i]!]!;
    }
    return ev;
  }
}
