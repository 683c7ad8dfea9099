import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import { LegiondError } from '../errors.js';

const PROBE_TIMEOUT_MS = 1000;

/** creates the socket's directory (0700) when missing; an existing one is left as the admin made it */
export async function ensureParentDir(path: string, mode = 0o700): Promise<void> {
  const dir = dirname(path);
  try {
    await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError(path, err);
    await mkdir(dir, { recursive: true, mode });
    // mkdir's mode is filtered by the umask; the directory must end up exactly as asked
    await chmod(dir, mode);
  }
}

/**
 * Makes `path` free for a new socket. A socket left by a crashed daemon refuses connections and
 * is removed; one that answers belongs to a running daemon and is left alone; anything that is
 * not a socket is never deleted.
 */
export async function clearStaleSocket(path: string): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw pathError(path, err);
  }
  if (!st.isSocket()) {
    throw new LegiondError(
      'ERR_CONTROL_PATH',
      `control path ${path} exists and is not a socket; refusing to remove it`,
    );
  }
  const probe = await probeSocket(path);
  if (probe === 'live') {
    throw new LegiondError('ERR_CONTROL_IN_USE', `control socket ${path} is in use by a running daemon`);
  }
  if (probe === 'stale') {
    await unlink(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw pathError(path, err);
    });
  }
}

function probeSocket(path: string): Promise<'live' | 'stale' | 'gone'> {
  return new Promise((resolve, reject) => {
    const sock = connect(path);
    const timer = setTimeout(() => {
      sock.destroy();
      // a server that accepts nothing in time is still a server: never steal its path
      resolve('live');
    }, PROBE_TIMEOUT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.destroy();
      resolve('live');
    });
    sock.once('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (err.code === 'ECONNREFUSED') resolve('stale');
      else if (err.code === 'ENOENT') resolve('gone');
      else reject(pathError(path, err));
    });
  });
}

function pathError(path: string, err: unknown): LegiondError {
  return new LegiondError('ERR_CONTROL_PATH', `control path ${path}: ${(err as Error).message}`, {
    cause: err,
  });
}

/**
 * A socket opened to a group or to everyone is of no use in a directory they cannot search; the
 * directory is the admin's, so it is reported rather than changed.
 */
export async function warnIfUnreachable(path: string, socketMode: number, logger: Logger): Promise<void> {
  const dir = dirname(path);
  const st = await lstat(dir).catch(() => null);
  if (!st) return;
  const needs = socketMode & 0o006 ? 0o001 : socketMode & 0o060 ? 0o010 : 0;
  if (needs !== 0 && (st.mode & needs) === 0) {
    logger.warn(
      { path, dir, dirMode: `0${(st.mode & 0o777).toString(8)}` },
      `read-only control socket ${path}: its directory ${dir} does not let the socket's users through ` +
        `(mode 0${(st.mode & 0o777).toString(8)}); give it search permission (e.g. chmod 0711) or move the socket`,
    );
  }
}
