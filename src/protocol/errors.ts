import { LegiondError } from '../errors.js';

/** Every code the native decoder/encoder can raise; the daemon pre-creates one drop counter per code. */
export const PROTOCOL_ERROR_CODES = [
  'ERR_TRUNCATED',
  'ERR_TOO_LARGE',
  'ERR_BAD_MAGIC',
  'ERR_VERSION',
  'ERR_AUTH',
  'ERR_REPLAY',
  'ERR_WRONG_LEGION',
  'ERR_MALFORMED',
  'ERR_LIMIT',
] as const;

export type ProtocolErrorCode = (typeof PROTOCOL_ERROR_CODES)[number];

export function protocolError(code: ProtocolErrorCode, message: string, cause?: unknown): LegiondError {
  return new LegiondError(code, message, cause === undefined ? undefined : { cause });
}

export function isProtocolErrorCode(code: string): code is ProtocolErrorCode {
  return (PROTOCOL_ERROR_CODES as readonly string[]).includes(code);
}
