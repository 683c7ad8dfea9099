/**
 * Decoder fuzzer: `npx tsx bench/fuzz-decoder.ts [count] [seed]` (default 1,000,000, seed 1).
 * Prints refusals per error code and the accept count; exits 1 if anything but a LegiondError
 * with a known protocol code escaped the decoder.
 */
import { performance } from 'node:perf_hooks';
import { runFuzz } from './fuzz-lib.js';

const count = Number(process.argv[2] ?? 1_000_000);
const seed = Number(process.argv[3] ?? 1);
if (!Number.isInteger(count) || count < 0 || !Number.isInteger(seed)) {
  console.error('usage: npx tsx bench/fuzz-decoder.ts [count] [seed]');
  process.exit(2);
}

const t0 = performance.now();
const r = runFuzz(count, seed);
const secs = (performance.now() - t0) / 1000;

console.log(`inputs: ${count} (seed ${seed}) in ${secs.toFixed(2)} s, ${Math.round(count / secs)} /s`);
console.log(`accepted: ${r.accepted}`);
for (const [code, n] of Object.entries(r.counts).sort((a, b) => b[1] - a[1])) {
  console.log(`${code.padEnd(18)} ${n}`);
}
if (r.unexpected > 0) {
  console.error(`FAIL: ${r.unexpected} unexpected throw(s), first ones:`);
  for (const f of r.failures) {
    console.error(Buffer.from(f.input).toString('hex'));
    console.error(f.error);
  }
  process.exit(1);
}
console.log('ok: only LegiondError with known codes');
