import { connect, type Socket } from 'node:net';
import { LegiondError } from '../errors.js';
import { LineReader } from './lines.js';
import { encodeRequest, parseServerLine, type ServerMessage } from './protocol.js';
import type { ControlCommand, ControlReplies } from './results.js';

/** replies (a members list with large scrolls) can far exceed a request's 64 KiB */
const MAX_REPLY_LINE_BYTES = 64 * 1024 * 1024;

export interface ControlRequestOptions {
  timeoutMs?: number;
}

export interface ControlStream {
  close(): void;
  /** settles when the stream ends: resolves on close(), rejects when the daemon goes away */
  readonly done: Promise<void>;
}

function connectError(path: string, err: NodeJS.ErrnoException): LegiondError {
  switch (err.code) {
    case 'ENOENT':
    case 'ECONNREFUSED':
      return new LegiondError('ERR_NOT_RUNNING', `legiond is not running (no control socket at ${path})`, {
        cause: err,
      });
    case 'EACCES':
    case 'EPERM':
      return new LegiondError('ERR_PERMISSION', `permission denied on ${path} (run as the daemon's user)`, {
        cause: err,
      });
    default:
      return new LegiondError('ERR_CONTROL_IO', `control socket ${path}: ${err.message}`, { cause: err });
  }
}

/** connects and feeds every server message to `onMessage`; resolves once connected */
function open(
  path: string,
  onMessage: (m: ServerMessage) => void,
  onEnd: (err: LegiondError | null) => void,
): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const reader = new LineReader(MAX_REPLY_LINE_BYTES);
    let connected = false;
    let failed: LegiondError | null = null;
    sock.once('connect', () => {
      connected = true;
      resolve(sock);
    });
    sock.on('error', (err: NodeJS.ErrnoException) => {
      failed = connected
        ? new LegiondError('ERR_CONTROL_IO', `control socket ${path}: ${err.message}`, { cause: err })
        : connectError(path, err);
      if (!connected) reject(failed);
    });
    sock.on('data', (chunk: Buffer) => {
      for (const item of reader.push(chunk)) {
        const m = item.type === 'line' ? parseServerLine(item.line) : null;
        if (m === null) {
          failed = new LegiondError('ERR_PROTOCOL', 'the daemon sent a reply this legionctl cannot read');
          sock.destroy();
          return;
        }
        onMessage(m);
      }
    });
    sock.on('close', () => {
      if (connected) onEnd(failed);
    });
  });
}

export async function controlRequest<K extends ControlCommand>(
  path: string,
  cmd: K,
  args: Record<string, unknown> = {},
  opts: ControlRequestOptions = {},
): Promise<ControlReplies[K]> {
  const id = 1;
  let settle: { resolve: (v: unknown) => void; reject: (e: unknown) => void } | null = null;
  const outcome = new Promise<unknown>((resolve, reject) => {
    settle = { resolve, reject };
  });
  const timeoutMs = opts.timeoutMs ?? 10_000;
  let timer: NodeJS.Timeout | undefined;
  const sock = await open(
    path,
    (m) => {
      if (m.kind === 'result' && m.id === id) settle?.resolve(m.result);
      else if (m.kind === 'error') settle?.reject(LegiondError.remote(m.error.code, m.error.message));
    },
    (err) =>
      settle?.reject(err ?? new LegiondError('ERR_CONNECTION_CLOSED', 'the daemon closed the connection')),
  );
  try {
    timer = setTimeout(
      () => settle?.reject(new LegiondError('ERR_TIMEOUT', `no reply to ${cmd} within ${timeoutMs}ms`)),
      timeoutMs,
    );
    sock.write(encodeRequest(id, cmd, args));
    // the reply's shape is the daemon's side of ControlReplies (control-handler.ts)
    return (await outcome) as ControlReplies[K];
  } finally {
    clearTimeout(timer);
    sock.destroy();
  }
}

/**
 * Starts a streaming command (`events`). Resolves once the daemon has accepted it, so no event
 * sent after that is missed; rejects with the daemon's error code otherwise.
 */
export async function controlStream(
  path: string,
  cmd: string,
  args: Record<string, unknown>,
  onEvent: (event: Record<string, unknown>) => void,
): Promise<ControlStream> {
  const id = 1;
  let accepted = false;
  let closedByUs = false;
  let ack: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  let end: { resolve: () => void; reject: (e: unknown) => void } | null = null;
  const acked = new Promise<void>((resolve, reject) => {
    ack = { resolve, reject };
  });
  const done = new Promise<void>((resolve, reject) => {
    end = { resolve, reject };
  });
  // done is observed by the caller only after acceptance; keep an early rejection from being "unhandled"
  done.catch(() => undefined);
  const sock = await open(
    path,
    (m) => {
      if (m.kind === 'result' && m.id === id) {
        accepted = true;
        ack?.resolve();
      } else if (m.kind === 'event' && m.id === id && accepted) onEvent(m.event);
      else if (m.kind === 'error') {
        const e = LegiondError.remote(m.error.code, m.error.message);
        ack?.reject(e);
        end?.reject(e);
      }
    },
    (err) => {
      const e = err ?? new LegiondError('ERR_CONNECTION_CLOSED', 'the daemon closed the event stream');
      ack?.reject(e);
      if (closedByUs) end?.resolve();
      else end?.reject(e);
    },
  );
  sock.write(encodeRequest(id, cmd, args));
  try {
    await acked;
  } catch (err) {
    sock.destroy();
    throw err;
  }
  return {
    close() {
      closedByUs = true;
      sock.destroy();
    },
    done,
  };
}
