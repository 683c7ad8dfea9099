/**
 * Decimal ASCII numbers as uWSGI writes them: `snprintf("%lld")` of the value cast to a signed
 * 64-bit integer. A u64 at or above 2^63 (a large valor, a checksum that overflowed) therefore
 * travels as a negative number; we write and read it the same way so the bits survive.
 */
import { LegiondError } from '../../errors.js';
import { U64_MAX } from '../../u64.js';

const I64_MIN = -(1n << 63n);

export function formatU64(v: bigint): string {
  return BigInt.asIntN(64, v).toString();
}

export function formatUint(n: number): string {
  if (!Number.isSafeInteger(n) || n < 0) {
    throw new LegiondError('ERR_RANGE', `uWSGI number ${n} is not a non-negative integer`);
  }
  return n.toString();
}

/** A u64 field: plain decimal up to 2^64-1, or a negative int64 (two's complement). */
export function parseU64(key: string, text: string): bigint {
  if (!/^-?[0-9]{1,20}$/.test(text)) throw notNumber(key, text);
  const v = BigInt(text);
  if (v > U64_MAX || v < I64_MIN)
    throw new LegiondError('ERR_MALFORMED', `uWSGI field "${key}" is out of range`);
  return BigInt.asUintN(64, v);
}

/** A small non-negative field (seconds, pid) that fits a JS number exactly. */
export function parseUint(key: string, text: string, max: number): number {
  if (!/^[0-9]{1,16}$/.test(text)) throw notNumber(key, text);
  const v = Number(text);
  if (v > max) throw new LegiondError('ERR_MALFORMED', `uWSGI field "${key}" is out of range: ${text}`);
  return v;
}

function notNumber(key: string, text: string): LegiondError {
  const shown = text.length > 24 ? `${text.slice(0, 24)}…` : text;
  return new LegiondError(
    'ERR_MALFORMED',
    `uWSGI field "${key}" is not a decimal number: ${JSON.stringify(shown)}`,
  );
}
