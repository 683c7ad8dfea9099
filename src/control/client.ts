/**
 * One-shot helpers over ControlConnection: a request on a connection of its own, and a stream
 * that owns its connection. legionctl and the client library (src/client) both use these.
 */
import { LegiondError } from '../errors.js';
import { type ArgsOf, ControlConnection, type RequestCommand, type RequestOptions } from './connection.js';
import type { CommandArgs } from './protocol.js';
import type { ControlReplies } from './results.js';

export type ControlRequestOptions = RequestOptions;

export interface ControlStream {
  close(): void;
  /** settles when the stream ends: resolves on close(), rejects when the daemon goes away */
  readonly done: Promise<void>;
}

export async function controlRequest<K extends RequestCommand>(
  path: string,
  cmd: K,
  args: ArgsOf<K> = {} as ArgsOf<K>,
  opts: ControlRequestOptions = {},
): Promise<ControlReplies[K]> {
  const conn = await ControlConnection.open(path);
  try {
    return await conn.request(cmd, args, opts);
  } finally {
    conn.close();
  }
}

/**
 * Starts the `events` stream on a connection of its own. Resolves once the daemon has accepted
 * it, so no event sent after that is missed; rejects with the daemon's error code otherwise.
 */
export async function controlStream(
  path: string,
  cmd: 'events',
  args: CommandArgs<'events'>,
  onEvent: (event: Record<string, unknown>) => void,
): Promise<ControlStream> {
  const conn = await ControlConnection.open(path);
  try {
    await conn.stream(cmd, args, onEvent);
  } catch (err) {
    conn.close();
    throw err;
  }
  const done = conn.closed.then((reason) => {
    if (reason) throw reason;
  });
  // the caller may never look at done (legionctl exits on a signal): no unhandled rejection
  done.catch(() => undefined);
  return { close: () => conn.close(), done };
}

export { ControlConnection, LegiondError };
