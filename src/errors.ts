/**
 * Every error legiond raises carries a stable `code` (as undici does) so callers, tests and
 * legionctl replies can branch on it without parsing messages.
 */
export class LegiondError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LegiondError';
    this.code = code;
  }
}

export function isLegiondError(e: unknown, code?: string): e is LegiondError {
  return e instanceof LegiondError && (code === undefined || e.code === code);
}
