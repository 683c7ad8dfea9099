/** A scratch directory per bench run, with a secret file of mode 0600 as legiond requires. */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class WorkDir {
  readonly root: string;
  readonly secretFile: string;

  constructor() {
    this.root = mkdtempSync(join(tmpdir(), 'legiond-bench-'));
    this.secretFile = join(this.root, 'secret');
    writeFileSync(this.secretFile, randomBytes(32).toString('base64'), { mode: 0o600 });
  }

  /** A fresh subdirectory for one cluster. */
  sub(name: string): string {
    const d = join(this.root, name);
    mkdirSync(d, { recursive: true });
    return d;
  }

  remove(): void {
    rmSync(this.root, { recursive: true, force: true });
  }
}
