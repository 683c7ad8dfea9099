/**
 * Secret files hold the key packets are authenticated with. They are read when a legion starts
 * (and on reload), not at config load, but `check-config` checks them up front.
 */
import { open } from 'node:fs/promises';
import { LegiondError } from '../errors.js';
import type { LegiondConfig } from './types.js';

/**
 * The file's bytes with one trailing newline ("\n" or "\r\n") removed. Refuses a file that group
 * or others can read or write (ERR_SECRET_PERMS), a missing one (ERR_SECRET_MISSING) and an
 * empty one (ERR_SECRET_EMPTY).
 */
export async function readSecretFile(path: string): Promise<Uint8Array> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT')
      throw new LegiondError('ERR_SECRET_MISSING', `secret file ${path} does not exist`, { cause: e });
    throw new LegiondError('ERR_SECRET_READ', `cannot read secret file ${path}: ${code ?? String(e)}`, {
      cause: e,
    });
  }
  try {
    // fstat on the open handle, so the mode checked is the mode of the file actually read.
    const st = await handle.stat();
    if (!st.isFile()) throw new LegiondError('ERR_SECRET_READ', `secret file ${path} is not a regular file`);
    if ((st.mode & 0o077) !== 0) {
      const mode = (st.mode & 0o777).toString(8).padStart(4, '0');
      throw new LegiondError(
        'ERR_SECRET_PERMS',
        `secret file ${path} has mode ${mode}: group and others must have no access (chmod 600 ${path})`,
      );
    }
    let bytes = new Uint8Array(await handle.readFile());
    if (bytes.at(-1) === 0x0a) bytes = bytes.subarray(0, bytes.at(-2) === 0x0d ? -2 : -1);
    if (bytes.length === 0) throw new LegiondError('ERR_SECRET_EMPTY', `secret file ${path} is empty`);
    return bytes;
  } finally {
    await handle.close();
  }
}

/**
 * Reads every secret file of every legion. Throws one LegiondError listing every failure, one per
 * line prefixed with the key; its code is the first failure's.
 */
export async function checkSecrets(config: LegiondConfig): Promise<void> {
  const failures: LegiondError[] = [];
  for (const [i, legion] of config.legions.entries()) {
    const files: Array<[string, string]> = [];
    if (legion.secretFile !== null) files.push([`legions[${i}].secret_file`, legion.secretFile]);
    for (const [j, f] of legion.acceptSecretFiles.entries())
      files.push([`legions[${i}].accept_secret_files[${j}]`, f]);
    const e = legion.engine;
    const pw =
      e?.backend === 'etcd'
        ? e.etcd.passwordFile
        : e?.backend === 'postgres'
          ? e.postgres.passwordFile
          : null;
    if (e && pw !== null) files.push([`legions[${i}].${e.backend}.password_file`, pw]);
    for (const [key, file] of files) {
      try {
        await readSecretFile(file);
      } catch (e) {
        if (!(e instanceof LegiondError)) throw e;
        failures.push(new LegiondError(e.code, `${key}: ${e.message}`, { cause: e }));
      }
    }
  }
  const first = failures[0];
  if (first)
    throw new LegiondError(first.code, failures.map((f) => f.message).join('\n'), { cause: first.cause });
}
