/**
 * Instructions per decoded announce, counted by valgrind's callgrind rather than timed: on a
 * shared machine the count is repeatable where seconds are not. Runs bench/decode-driver.mjs with
 * 2 and with 8 passes over 10,000 announces and divides the difference by 60,000, so start-up,
 * encoding and the JIT's warm-up cancel out; V8 runs `--predictable` (its compilers on the main
 * thread, at the same points every run). Needs valgrind (Debian: apt-get install valgrind).
 *
 *   npm run build && npx tsx bench/decode-instructions.ts     (about 10 minutes)
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const DRIVER = fileURLToPath(new URL('./decode-driver.mjs', import.meta.url));

/** instructions callgrind counted in a whole run of the driver */
function collected(passes: number, secure: boolean): number {
  const args = ['--tool=callgrind', '--smc-check=all-non-file', '--callgrind-out-file=/dev/null'];
  args.push(process.execPath, '--predictable', DRIVER, String(passes), ...(secure ? ['--secure'] : []));
  const r = spawnSync('valgrind', args, { encoding: 'utf8', stdio: ['ignore', 'ignore', 'pipe'] });
  if (r.error && (r.error as NodeJS.ErrnoException).code === 'ENOENT')
    throw new Error('valgrind is not installed (Debian: apt-get install valgrind)');
  // callgrind reports on stderr
  const m = /Collected\s*:\s*(\d+)/.exec(r.stderr ?? '');
  if (r.status !== 0 || !m) throw new Error(`callgrind run failed (status ${r.status}):\n${r.stderr}`);
  return Number(m[1]);
}

for (const secure of [false, true]) {
  const a = collected(2, secure);
  const b = collected(8, secure);
  const label = secure ? 'decode + authenticate (AES-256-GCM)' : 'decode only (plaintext)';
  process.stdout.write(
    `${label}: ${Math.round((b - a) / 60_000).toLocaleString('en-US')} instructions per announce\n`,
  );
}
