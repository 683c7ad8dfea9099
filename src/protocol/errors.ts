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

/**
 * A refused packet is input, not a bug: where it was refused in the decoder says nothing the
 * code and message do not, and capturing a stack for every packet of a flood (or every reordered
 * copy in a big legion) was the dearest part of dropping one. So these errors carry no stack.
 */
export function protocolError(code: ProtocolErrorCode, message: string, cause?: unknown): LegiondError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new LegiondError(code, message, cause === undefined ? undefined : { cause });
  } finally {
    Error.stackTraceLimit = limit;
  }
}

export function isProtocolErrorCode(code: string): code is ProtocolErrorCode {
  return (PROTOCOL_ERROR_CODES as readonly string[]).includes(code);
}
