/** Bench ports come from 48000-49999 (reserved for benches); each caller gets a fresh block. */
const FIRST = 48000;
const LAST = 49999;
let next = FIRST + Math.floor(Math.random() * 1000);

export function takePorts(count: number): number[] {
  if (count > LAST - FIRST + 1) throw new Error(`cannot take ${count} ports from ${FIRST}-${LAST}`);
  if (next + count - 1 > LAST) next = FIRST;
  const out = Array.from({ length: count }, (_, i) => next + i);
  next += count;
  return out;
}
