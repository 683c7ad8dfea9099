/**
 * Every error legiond raises carries a stable `code` (as undici does) so callers, tests and
 * legionctl replies can branch on it without parsing messages.
 */
/** Every code legiond raises, in one place: a new code is added here, so a typo fails to compile. */
export type ErrorCode =
  // configuration, files and secrets
  | 'ERR_CONFIG'
  | 'ERR_FILE'
  | 'ERR_RANGE'
  | 'ERR_SECRET'
  | 'ERR_SECRET_EMPTY'
  | 'ERR_SECRET_MISSING'
  | 'ERR_SECRET_PERMS'
  | 'ERR_SECRET_READ'
  | 'ERR_SCENARIO'
  // resources taken at start
  | 'ERR_ADDRESS'
  | 'ERR_ADDRESS_IN_USE'
  | 'ERR_BIND'
  | 'ERR_MULTICAST'
  | 'ERR_CONTROL_IN_USE'
  | 'ERR_HTTP_IN_USE'
  | 'ERR_HTTP_LISTEN'
  | 'ERR_HTTP_TOKEN'
  | 'ERR_CONTROL_PATH'
  | 'ERR_STATE'
  | 'ERR_STATE_DIR'
  | 'ERR_STATE_LOCKED'
  // packets (see protocol/errors.ts)
  | 'ERR_TRUNCATED'
  | 'ERR_TOO_LARGE'
  | 'ERR_BAD_MAGIC'
  | 'ERR_VERSION'
  | 'ERR_AUTH'
  | 'ERR_REPLAY'
  | 'ERR_WRONG_LEGION'
  | 'ERR_MALFORMED'
  | 'ERR_LIMIT'
  | 'ERR_CIPHER'
  | 'ERR_PROTOCOL'
  // the control socket
  | 'ERR_BAD_REQUEST'
  | 'ERR_UNKNOWN_COMMAND'
  | 'ERR_UNKNOWN_LEGION'
  | 'ERR_NOT_FOUND'
  | 'ERR_INVALID_VALUE'
  | 'ERR_NOT_RUNNING'
  | 'ERR_PERMISSION'
  | 'ERR_FORBIDDEN'
  | 'ERR_CONNECTION_CLOSED'
  | 'ERR_CONTROL_IO'
  | 'ERR_TIMEOUT'
  | 'ERR_USAGE'
  // lord-only work
  | 'ERR_GUARD_CLOCK'
  | 'ERR_WORK_RECORDS_INVALID'
  | 'ERR_WORK_RECORDS_READ'
  | 'ERR_WORK_RECORDS_WRITE'
  // strong mode: the engine (etcd, PostgreSQL) refused, failed or did not answer in time
  | 'ERR_ENGINE'
  | 'ERR_ENGINE_TIMEOUT'
  | 'ERR_ENGINE_UNREACHABLE'
  // internal
  | 'ERR_CLOSED'
  | 'ERR_INTERNAL';

export class LegiondError extends Error {
  /** replies from a daemon of another version may carry a code this union does not list */
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LegiondError';
    this.code = code;
  }

  /** an error a daemon replied with: its code is kept as sent */
  static remote(code: string, message: string): LegiondError {
    return new LegiondError(code as ErrorCode, message);
  }
}

export function isLegiondError(e: unknown, code?: string): e is LegiondError {
  return e instanceof LegiondError && (code === undefined || e.code === code);
}
