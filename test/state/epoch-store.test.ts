import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { EpochStore } from '../../src/daemon/epoch-store.js';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

describe('epoch store', () => {
  it('saves issued together all succeed and leave the highest epoch on disk', async () => {
    dir = mkdtempSync(join(tmpdir(), 'epoch-'));
    const store = new EpochStore(dir, 'web');
    // the daemon saves at every event without waiting; several are in flight at once
    await Promise.all([5n, 6n, 7n, 6n, 9n, 8n].map((e) => store.save(e)));
    expect(readFileSync(join(dir, 'web.epoch'), 'utf8')).toBe('9\n');
    expect(await new EpochStore(dir, 'web').load()).toBe(9n);
  });
});
