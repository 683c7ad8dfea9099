/**
 * One connection to a daemon's control socket, carrying any number of requests and streams at
 * once, matched by id. Everything on one connection arrives in the order the daemon wrote it, so
 * a reply read after a stream was accepted reflects every event sent before it; watch() relies
 * on that to re-read the lord without a gap.
 */
import { connect, type Socket } from 'node:net';
import { LegiondError } from '../errors.js';
import { LineReader } from './lines.js';
import {
  type CommandArgs,
  type CommandName,
  encodeRequest,
  parseServerLine,
  type ServerMessage,
} from './protocol.js';
import type { ControlCommand, ControlReplies } from './results.js';

/** replies (a members list with large scrolls) can far exceed a request's 64 KiB */
const MAX_REPLY_LINE_BYTES = 64 * 1024 * 1024;
const DEFAULT_TIMEOUT_MS = 10_000;

export interface RequestOptions {
  timeoutMs?: number;
}

/** the commands that answer once; their arguments come from the protocol's schema */
export type RequestCommand = ControlCommand;
export type ArgsOf<K extends RequestCommand> = K extends CommandName ? CommandArgs<K> : never;

interface Pending {
  onResult(result: unknown): void;
  onError(err: LegiondError): void;
  onEvent?: (event: Record<string, unknown>) => void;
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
      return new LegiondError(
        'ERR_PERMISSION',
        `permission denied on ${path} (run as the daemon's user, or use its read-only socket)`,
        { cause: err },
      );
    default:
      return new LegiondError('ERR_CONTROL_IO', `control socket ${path}: ${err.message}`, { cause: err });
  }
}

export class ControlConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private ended: LegiondError | null = null;
  private closedByUs = false;
  /** resolves when the connection ends: null after close(), the reason otherwise */
  readonly closed: Promise<LegiondError | null>;
  private resolveClosed!: (reason: LegiondError | null) => void;

  private constructor(
    readonly path: string,
    private readonly sock: Socket,
  ) {
    this.closed = new Promise((r) => {
      this.resolveClosed = r;
    });
  }

  /** connects; rejects with ERR_NOT_RUNNING, ERR_PERMISSION or ERR_CONTROL_IO */
  static open(path: string): Promise<ControlConnection> {
    return new Promise((resolve, reject) => {
      const sock = connect(path);
      const conn = new ControlConnection(path, sock);
      let connected = false;
      let failure: LegiondError | null = null;
      const reader = new LineReader(MAX_REPLY_LINE_BYTES);
      sock.once('connect', () => {
        connected = true;
        resolve(conn);
      });
      sock.on('error', (err: NodeJS.ErrnoException) => {
        if (!connected) {
          reject(connectError(path, err));
          return;
        }
        failure = new LegiondError('ERR_CONTROL_IO', `control socket ${path}: ${err.message}`, {
          cause: err,
        });
      });
      sock.on('data', (chunk: Buffer) => {
        for (const item of reader.push(chunk)) {
          const m = item.type === 'line' ? parseServerLine(item.line) : null;
          if (m === null) {
            failure = new LegiondError('ERR_PROTOCOL', 'the daemon sent a reply this client cannot read');
            sock.destroy();
            return;
          }
          conn.dispatch(m);
        }
      });
      sock.on('close', () => {
        if (connected) conn.finish(failure);
      });
    });
  }

  private dispatch(m: ServerMessage): void {
    if (m.kind === 'error' && m.id === null) {
      // the daemon could not tell which request it refused: fail them all rather than guess
      const e = LegiondError.remote(m.error.code, m.error.message);
      for (const p of this.pending.values()) p.onError(e);
      this.pending.clear();
      return;
    }
    const p = this.pending.get(m.id as number);
    if (!p) return;
    if (m.kind === 'result') {
      if (!p.onEvent) this.pending.delete(m.id);
      p.onResult(m.result);
    } else if (m.kind === 'error') {
      this.pending.delete(m.id as number);
      p.onError(LegiondError.remote(m.error.code, m.error.message));
    } else p.onEvent?.(m.event);
  }

  private finish(failure: LegiondError | null): void {
    const reason = this.closedByUs
      ? null
      : (failure ?? new LegiondError('ERR_CONNECTION_CLOSED', 'the daemon closed the connection'));
    this.ended = reason ?? new LegiondError('ERR_CLOSED', 'the connection was closed');
    for (const p of this.pending.values()) p.onError(this.ended);
    this.pending.clear();
    this.resolveClosed(reason);
  }

  private send(cmd: string, args: object, p: Pending): number {
    if (this.ended) {
      p.onError(this.ended);
      return 0;
    }
    const id = this.nextId++;
    this.pending.set(id, p);
    this.sock.write(encodeRequest(id, cmd, args as Record<string, unknown>));
    return id;
  }

  /** one command, one reply, typed by the command's entry in ControlReplies */
  request<K extends RequestCommand>(
    cmd: K,
    args: ArgsOf<K>,
    opts: RequestOptions & {
      /**
       * Called with the result as soon as its line is read, before any later line of this
       * connection is dispatched (the promise settles a turn later, after events that followed).
       */
      onReply?: (result: ControlReplies[K]) => void;
    } = {},
  ): Promise<ControlReplies[K]> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let id = 0;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LegiondError('ERR_TIMEOUT', `no reply to ${cmd} within ${timeoutMs}ms`));
      }, timeoutMs);
      id = this.send(cmd, args, {
        // the daemon's handler is held to ControlReplies by the compiler (control-handler.ts)
        onResult: (r) => {
          clearTimeout(timer);
          opts.onReply?.(r as ControlReplies[K]);
          resolve(r as ControlReplies[K]);
        },
        onError: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
    });
  }

  /**
   * Starts a stream (`events`). Resolves once the daemon has accepted it, so no event sent after
   * that is missed; events then go to `onEvent` until the connection ends (see `closed`).
   */
  stream(
    cmd: 'events',
    args: CommandArgs<'events'>,
    onEvent: (event: Record<string, unknown>) => void,
    opts: RequestOptions = {},
  ): Promise<void> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    return new Promise((resolve, reject) => {
      let accepted = false;
      let id = 0;
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new LegiondError('ERR_TIMEOUT', `the daemon did not accept ${cmd} within ${timeoutMs}ms`));
      }, timeoutMs);
      id = this.send(cmd, args, {
        onResult: () => {
          clearTimeout(timer);
          accepted = true;
          resolve();
        },
        onError: (e) => {
          clearTimeout(timer);
          if (!accepted) reject(e);
        },
        onEvent: (e) => {
          if (accepted) onEvent(e);
        },
      });
    });
  }

  close(): void {
    this.closedByUs = true;
    this.sock.destroy();
  }
}
