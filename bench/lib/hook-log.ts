/**
 * Lord hooks stamp the wall clock into a file per node (`date +%s%N >> DIR/lord-NODE`); the bench
 * reads the stamps. The stamp is taken by the hook itself, so polling delay does not bias results.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { nsTextToMs, until } from './clock.js';

export interface LordStamp {
  node: string;
  atMs: number;
}

const PREFIX = 'lord-';

/** The shell command a node's lord hook runs. */
export function lordHookCommand(dir: string, node: string): string {
  return `date +%s%N >> ${join(dir, `${PREFIX}${node}`)}`;
}

export class HookLog {
  private readonly consumed = new Map<string, number>();
  private readonly queue: LordStamp[] = [];

  constructor(readonly dir: string) {}

  /** Stamps not read before, in time order. */
  private fresh(): LordStamp[] {
    const out: LordStamp[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!f.startsWith(PREFIX)) continue;
      const node = f.slice(PREFIX.length);
      const lines = readFileSync(join(this.dir, f), 'utf8').split('\n');
      // the last element is '' or a line still being written
      const complete = lines.slice(0, -1);
      const from = this.consumed.get(node) ?? 0;
      for (const line of complete.slice(from)) {
        const atMs = nsTextToMs(line);
        if (atMs !== null) out.push({ node, atMs });
      }
      this.consumed.set(node, complete.length);
    }
    return out.sort((a, b) => a.atMs - b.atMs);
  }

  /** Every stamp so far not taken by `next`, and drops them. */
  drain(): LordStamp[] {
    this.queue.push(...this.fresh());
    return this.queue.splice(0);
  }

  /** Waits for the next stamp matching `pred`; the stamps before it that do not match come in `skipped`. */
  async next(
    what: string,
    timeoutMs: number,
    pred: (s: LordStamp) => boolean,
  ): Promise<{ stamp: LordStamp; skipped: LordStamp[] }> {
    const skipped: LordStamp[] = [];
    const stamp = await until(what, timeoutMs, () => {
      this.queue.push(...this.fresh());
      while (this.queue.length > 0) {
        const s = this.queue.shift()!;
        if (pred(s)) return s;
        skipped.push(s);
      }
      return undefined;
    });
    return { stamp, skipped };
  }
}
