/**
 * Bench ports come from 48000-49999 (reserved for benches), or from BENCH_PORTS=FIRST-LAST (two
 * benches on one machine keep apart); each caller gets a fresh block.
 */
const [FIRST, LAST] = (process.env.BENCH_PORTS ?? '48000-49999').split('-').map(Number) as [number, number];
if (!(Number.isInteger(FIRST) && Number.isInteger(LAST) && FIRST > 0 && LAST >= FIRST && LAST < 65536))
  throw new Error(`BENCH_PORTS must be FIRST-LAST, got ${process.env.BENCH_PORTS}`);
let next = FIRST + Math.floor(Math.random() * Math.min(1000, LAST - FIRST + 1));

export function takePorts(count: number): number[] {
  if (count > LAST - FIRST + 1) throw new Error(`cannot take ${count} ports from ${FIRST}-${LAST}`);
  if (next + count - 1 > LAST) next = FIRST;
  const out = Array.from({ length: count }, (_, i) => next + i);
  next += count;
  return out;
}
