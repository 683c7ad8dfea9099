import { chmod, lstat, mkdir, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname } from 'node:path';
import { LegiondError } from '../errors.js';

const PROBE_TIMEOUT_MS = 1000;

/** creates the socket's directory (0700) when missing; an existing one is left as the admin made it */
export async function ensureParentDir(path: string): Promise<void> {
  const dir = dirname(path);
  try {
    await lstat(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw pathError(path, err);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    // mkdir's mode is filtered by the umask; the directory must end up exactly 0700
    await chmod(dir, 0o700);
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
