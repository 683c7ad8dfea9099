import { chmod, link, lstat, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { LegiondError } from '../errors.js';

export const LOCK_FILE = 'legiond.lock';

export interface StateLock {
  readonly dir: string;
  readonly file: string;
  /** removes the lock file if it is still ours; safe to call twice */
  release(): Promise<void>;
}

/** Seams for tests; the daemon passes none. */
export interface StateLockDeps {
  pid?: number;
  /** is `pid` a running legiond? (default: kill(pid, 0) and /proc/<pid>/cmdline) */
  isLegiond?: (pid: number) => Promise<boolean>;
}

/**
 * Takes `dir/legiond.lock` (created with O_EXCL, holding the pid), so two daemons never share a
 * state directory: both would persist epochs and cron state there, and each would believe its
 * own copy. A lock whose pid is dead, or is no longer a legiond (the pid was reused), is stale and
 * taken over. Refused with ERR_STATE_LOCKED naming the directory when a live legiond holds it.
 */
export async function acquireStateLock(dir: string, deps: StateLockDeps = {}): Promise<StateLock> {
  const pid = deps.pid ?? process.pid;
  const isLegiond = deps.isLegiond ?? isLegiondProcess;
  const file = join(dir, LOCK_FILE);
  await ensureDir(dir);
  const mine = `${pid}\n`;
  // a takeover races other starting daemons; every round either creates the file or learns who holds it
  for (let round = 0; round < 5; round++) {
    try {
      const fh = await open(file, 'wx', 0o600);
      try {
        await fh.writeFile(mine);
      } finally {
        await fh.close();
      }
      return lockHandle(dir, file, mine);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw stateError(dir, err);
    }
    const seen = await readFile(file, 'utf8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw stateError(dir, err);
    });
    if (seen === null) continue; // released meanwhile: try again
    const holder = parsePid(seen);
    // our own pid can only be a previous process's (pid 1 in a container, every time)
    if (holder !== null && holder !== pid && (await isLegiond(holder))) {
      throw new LegiondError(
        'ERR_STATE_LOCKED',
        `state directory ${dir} is locked by a running legiond (pid ${holder}, ${file})`,
      );
    }
    await removeStale(file, seen, pid);
  }
  throw new LegiondError('ERR_STATE_LOCKED', `state directory ${dir}: could not take ${file} (contended)`);
}

/**
 * Moves a stale lock aside before deleting it, so that of two daemons taking it over at once the
 * slower cannot delete the fresh lock the faster has just created: a rename is atomic, and what was
 * moved is checked. A fresh lock moved by mistake is put back with link(), which never overwrites.
 */
async function removeStale(file: string, seen: string, pid: number): Promise<void> {
  const aside = `${file}.stale.${pid}`;
  try {
    await rename(file, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw stateError(file, err);
  }
  const moved = await readFile(aside, 'utf8').catch(() => null);
  if (moved !== null && moved !== seen) await link(aside, file).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function lockHandle(dir: string, file: string, mine: string): StateLock {
  let released: Promise<void> | null = null;
  return {
    dir,
    file,
    release() {
      released ??= (async () => {
        // never remove a lock a successor took after ours was (wrongly) judged stale
        const now = await readFile(file, 'utf8').catch(() => null);
        if (now === mine) await unlink(file).catch(() => undefined);
      })();
      return released;
    },
  };
}

async function ensureDir(dir: string): Promise<void> {
  try {
    const st = await lstat(dir);
    if (!st.isDirectory())
      throw new LegiondError('ERR_STATE_DIR', `state directory ${dir} is not a directory`);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw stateError(dir, err);
    try {
      await mkdir(dir, { recursive: true, mode: 0o700 });
      await chmod(dir, 0o700);
    } catch (e) {
      throw stateError(dir, e);
    }
  }
}

function parsePid(text: string): number | null {
  const t = text.trim();
  if (!/^[0-9]{1,10}$/.test(t)) return null;
  const n = Number(t);
  return n > 0 ? n : null;
}

/** alive and, where /proc tells, running legiond (`legiond` or `…/legiond.js` among its argv) */
export async function isLegiondProcess(pid: number): Promise<boolean> {
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to someone else; /proc decides
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  let cmdline: string;
  try {
    cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // gone meanwhile; or no /proc at all (not Linux): alive is all we know, so the lock holds
    if (
      code === 'ENOENT' &&
      (await lstat('/proc/self').then(
        () => true,
        () => false,
      ))
    )
      return false;
    return true;
  }
  // a zombie's cmdline is empty: it is no longer running anything
  return cmdline.split('\0').some((arg) => /^legiond(\.[cm]?[jt]s)?$/.test(basename(arg)));
}

function stateError(dir: string, err: unknown): LegiondError {
  if (err instanceof LegiondError) return err;
  return new LegiondError('ERR_STATE_DIR', `state directory ${dir}: ${(err as Error).message}`, {
    cause: err,
  });
}
