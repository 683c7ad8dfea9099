/**
 * node-postgres and the server report failures as plain errors with an SQLSTATE `code`, a Node
 * `code` (ECONNREFUSED) or only a message; the engine's caller needs one of three answers: the
 * engine did not answer in time, could not be reached, or refused.
 */
import { LegiondError } from '../errors.js';

// SQLSTATE classes and codes meaning the server is gone, going or not taking connections
const UNREACHABLE_SQLSTATE = /^(08|57P0[1-4]|53300)/;
// query_canceled (statement_timeout), lock_not_available (lock_timeout),
// idle_in_transaction_session_timeout
const TIMEOUT_SQLSTATE = new Set(['57014', '55P03', '25P03']);
const SQLSTATE = /^[0-9A-Z]{5}$/;
const UNREACHABLE_NODE = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** The LegiondError for a failed engine call: `what` names the call, `where` the server. */
export function engineError(e: unknown, what: string, where: string): LegiondError {
  if (e instanceof LegiondError) return e;
  const err = e instanceof Error ? e : new Error(String(e));
  const code = (err as { code?: unknown }).code;
  const msg = err.message;
  const say = (c: LegiondError['code'], why: string) =>
    new LegiondError(c, `PostgreSQL ${where}: ${what}: ${why}`, { cause: err });
  if (typeof code === 'string' && TIMEOUT_SQLSTATE.has(code)) return say('ERR_ENGINE_TIMEOUT', msg);
  if (/timeout/i.test(msg) && typeof code !== 'string') return say('ERR_ENGINE_TIMEOUT', msg);
  if (typeof code === 'string' && (UNREACHABLE_NODE.has(code) || UNREACHABLE_SQLSTATE.test(code))) {
    return say('ERR_ENGINE_UNREACHABLE', `${msg} (${code})`);
  }
  if (
    /Connection terminated|connection.*(closed|ended)|Client has encountered a connection error/i.test(msg)
  ) {
    return say('ERR_ENGINE_UNREACHABLE', msg);
  }
  // a Node code (a TLS verification failure: UNABLE_TO_VERIFY_LEAF_SIGNATURE) is no SQLSTATE
  if (typeof code === 'string')
    return say('ERR_ENGINE', `${msg} (${SQLSTATE.test(code) ? 'SQLSTATE ' : ''}${code})`);
  return say('ERR_ENGINE', msg);
}

/** Rejects with ERR_ENGINE_TIMEOUT if `p` has not settled within `ms`. */
export function withDeadline<T>(p: Promise<T>, ms: number, what: string, where: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new LegiondError('ERR_ENGINE_TIMEOUT', `PostgreSQL ${where}: ${what}: no answer in ${ms} ms`)),
      ms,
    );
  });
  return Promise.race([p.catch((e: unknown) => Promise.reject(engineError(e, what, where))), late]).finally(
    () => clearTimeout(timer),
  );
}
