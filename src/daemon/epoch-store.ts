import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LegiondError } from '../errors.js';

/**
 * Keeps the highest epoch a legion has seen on disk, so a whole-legion restart continues the
 * fencing token instead of handing a downstream system a number it has already seen.
 */
export class EpochStore {
  private written = -1n;
  /** saves run one after another: two in flight shared the temp file and one rename failed */
  private queue: Promise<void> = Promise.resolve();
  constructor(
    private readonly dir: string,
    private readonly legion: string,
  ) {}

  private get file(): string {
    return join(this.dir, `${encodeURIComponent(this.legion)}.epoch`);
  }

  async load(): Promise<bigint> {
    try {
      const text = (await readFile(this.file, 'utf8')).trim();
      if (!/^\d{1,20}$/.test(text))
        throw new LegiondError('ERR_STATE', `${this.file}: not an epoch: ${text}`);
      this.written = BigInt(text);
      return this.written;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return 0n;
      throw e;
    }
  }

  /** write-then-rename so a crash never leaves a torn file */
  save(epoch: bigint): Promise<void> {
    if (epoch <= this.written) return Promise.resolve();
    this.written = epoch;
    const next = this.queue.then(() => this.write(epoch));
    // a failed save is reported to its caller; the next one still runs
    this.queue = next.catch(() => undefined);
    return next;
  }

  private async write(epoch: bigint): Promise<void> {
    // a later save may have been queued meanwhile: only the highest epoch matters
    if (epoch < this.written) return;
    await mkdir(this.dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.file}.tmp`;
    await writeFile(tmp, `${epoch}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
