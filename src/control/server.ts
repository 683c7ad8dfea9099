import { chmod, chown, lstat, unlink } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import type { Logger } from 'pino';
import { isLegiondError, LegiondError } from '../errors.js';
import type { ControlHandler } from './handler.js';
import { LineReader } from './lines.js';
import {
  encodeEvent,
  encodeLine,
  encodeResult,
  errorReply,
  MAX_LINE_BYTES,
  parseRequest,
  READ_COMMANDS,
  type Request,
  STREAMING_COMMANDS,
} from './protocol.js';
import { clearStaleSocket, ensureParentDir, warnIfUnreachable } from './socket-path.js';

export interface ControlServerOptions {
  path: string;
  handler: ControlHandler;
  logger: Logger;
  /**
   * admin (default): every command, socket mode 0600. read: only READ_COMMANDS; the others get
   * ERR_FORBIDDEN and the connection stays usable. Its mode and group are the caller's to choose.
   */
  access?: ControlAccess;
}

export type ControlAccess = { kind: 'admin' } | { kind: 'read'; mode: number; gid: number | null };

export interface ControlServer {
  readonly path: string;
  close(): Promise<void>;
}

/** a client that stops reading its event stream is dropped rather than buffered without end */
const MAX_PENDING_WRITE_BYTES = 4 * 1024 * 1024;
const MAX_CONNECTIONS = 128;

export async function startControlServer(opts: ControlServerOptions): Promise<ControlServer> {
  const { path, handler, logger } = opts;
  const access = opts.access ?? { kind: 'admin' };
  // a directory made for the read socket must let its users through (search only, no listing)
  await ensureParentDir(path, access.kind === 'read' ? 0o711 : 0o700);
  await clearStaleSocket(path);
  const connections = new Set<Socket>();
  const server = createServer((sock) => {
    connections.add(sock);
    sock.once('close', () => connections.delete(sock));
    serveConnection(sock, handler, logger, access.kind === 'read');
  });
  server.maxConnections = MAX_CONNECTIONS;
  server.on('error', (err) => logger.error({ err }, 'control server error'));
  await listenPrivately(server, path);
  let ino: number;
  try {
    // born 0600 either way: the group is set before the mode opens the socket to it
    if (access.kind === 'read' && access.gid !== null) await chown(path, -1, access.gid);
    await chmod(path, access.kind === 'read' ? access.mode : 0o600);
    ino = (await lstat(path)).ino;
  } catch (err) {
    server.close();
    await unlink(path).catch(() => undefined);
    const what =
      access.kind === 'read'
        ? `give ${path} mode 0${access.mode.toString(8)}${access.gid === null ? '' : ` and group ${access.gid}`}`
        : `secure ${path}`;
    throw new LegiondError('ERR_CONTROL_PATH', `cannot ${what}: ${(err as Error).message}`, { cause: err });
  }
  if (access.kind === 'read') await warnIfUnreachable(path, access.mode, logger);
  logger.debug({ path, access: access.kind }, 'control socket listening');

  let closing: Promise<void> | null = null;
  return {
    path,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const c of connections) c.destroy();
        await closed;
        // only remove the file if it is still ours, not one a successor has created since
        const now = await lstat(path).catch(() => null);
        if (now?.isSocket() && now.ino === ino) await unlink(path).catch(() => undefined);
      })();
      return closing;
    },
  };
}

/**
 * Listens with umask 0177 so the socket is born 0600: a chmod afterwards alone would leave a
 * moment in which anyone could connect. Node binds a Unix socket synchronously inside listen(),
 * so the umask is restored at once. Worker threads cannot change the umask; there the chmod
 * that follows is the only guard.
 */
function listenPrivately(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) =>
      reject(
        // another daemon created the socket between the probe and this listen
        err.code === 'EADDRINUSE'
          ? new LegiondError('ERR_CONTROL_IN_USE', `control socket ${path} is in use by a running daemon`, {
              cause: err,
            })
          : new LegiondError('ERR_CONTROL_PATH', `cannot listen on ${path}: ${err.message}`, { cause: err }),
      );
    server.once('error', onError);
    let previous: number | null = null;
    try {
      previous = process.umask(0o177);
    } catch {
      previous = null;
    }
    try {
      server.listen(path, () => {
        server.off('error', onError);
        resolve();
      });
    } finally {
      if (previous !== null) process.umask(previous);
    }
  });
}

function serveConnection(sock: Socket, handler: ControlHandler, logger: Logger, readOnly: boolean): void {
  const reader = new LineReader(MAX_LINE_BYTES);
  const unsubscribers = new Set<() => void>();
  let open = true;

  const write = (line: string): void => {
    if (!open) return;
    if (sock.writableLength > MAX_PENDING_WRITE_BYTES) {
      logger.warn('control client is not reading its replies; dropping it');
      sock.destroy();
      return;
    }
    sock.write(line);
  };
  const writeError = (id: number | null, err: unknown): void => {
    if (isLegiondError(err)) {
      write(encodeLine(errorReply(id, err.code, err.message)));
      return;
    }
    logger.error({ err }, 'control request failed');
    write(
      encodeLine(errorReply(id, 'ERR_INTERNAL', `internal error: ${(err as Error)?.message ?? String(err)}`)),
    );
  };

  const run = (req: Request): void => {
    if (readOnly && !READ_COMMANDS.has(req.cmd)) {
      write(
        encodeLine(
          errorReply(
            req.id,
            'ERR_FORBIDDEN',
            `${req.cmd} changes the node: not served on the read-only socket (use the admin socket)`,
          ),
        ),
      );
      return;
    }
    if (STREAMING_COMMANDS.has(req.cmd)) {
      subscribe(req);
      return;
    }
    // a handler that throws synchronously must not escape into the socket's data callback
    Promise.resolve()
      .then(() => handler.request(req.cmd, req.args))
      .then(
        (result) => {
          try {
            write(encodeResult(req.id, result));
          } catch (err) {
            writeError(req.id, err);
          }
        },
        (err: unknown) => writeError(req.id, err),
      );
  };

  const subscribe = (req: Request): void => {
    // events that arrive before the ok reply is written wait, so the stream always starts with it
    let queued: object[] | null = [];
    const send = (event: object): void => {
      try {
        write(encodeEvent(req.id, event));
      } catch (err) {
        logger.error({ err }, 'cannot encode control event');
      }
    };
    let unsubscribe: () => void;
    try {
      const legion = typeof req.args.legion === 'string' ? req.args.legion : null;
      unsubscribe = handler.subscribe(legion, (event) => {
        if (queued) queued.push(event);
        else send(event);
      });
    } catch (err) {
      writeError(req.id, err);
      return;
    }
    if (!open) {
      unsubscribe();
      return;
    }
    unsubscribers.add(unsubscribe);
    write(encodeResult(req.id, { streaming: true }));
    const pending = queued;
    queued = null;
    for (const e of pending) send(e);
  };

  sock.on('data', (chunk: Buffer) => {
    for (const item of reader.push(chunk)) {
      if (item.type === 'too-long') {
        write(encodeLine(errorReply(null, 'ERR_BAD_REQUEST', `request line over ${MAX_LINE_BYTES} bytes`)));
        continue;
      }
      if (item.line.trim() === '') continue;
      const parsed = parseRequest(item.line);
      if (!parsed.ok) write(encodeLine(parsed.reply));
      else run(parsed.request);
    }
  });
  // a client that vanishes mid-reply is routine, not an error worth more than debug
  sock.on('error', (err) => logger.debug({ err: err.message }, 'control connection error'));
  sock.on('close', () => {
    open = false;
    for (const u of unsubscribers) {
      try {
        u();
      } catch (err) {
        logger.error({ err }, 'control unsubscribe threw');
      }
    }
    unsubscribers.clear();
  });
}
