/** Shared pieces of the PostgreSQL engine tests: a server per file, clients, UUIDs, polling. */
import { randomUUID } from 'node:crypto';
import { PostgresEngine, type PostgresEngineOptions } from '../../src/engine/postgres.js';
import type { EngineCandidate } from '../../src/engine/types.js';
import type { PgServer } from '../helpers/pg-server.js';

export const uuid = (): string => randomUUID();

export function candidate(id: string, name: string, valor = 10n): EngineCandidate {
  return { uuid: id, name, valor, scroll: new TextEncoder().encode(`addr=${name}`), standing: true };
}

/** clients made by a test, closed after it whatever happened */
export class Clients {
  private readonly all: PostgresEngine[] = [];

  constructor(private readonly server: () => PgServer) {}

  make(legion: string, o: Partial<PostgresEngineOptions> = {}): PostgresEngine {
    const c = new PostgresEngine({ legion, ...this.server().connection, timeoutMs: 1500, ...o });
    this.all.push(c);
    return c;
  }

  async closeAll(): Promise<void> {
    await Promise.all(this.all.splice(0).map((c) => c.close()));
  }
}

/** poll `f` until it returns a value other than undefined, at most `ms` */
export async function until<T>(
  what: string,
  f: () => Promise<T | undefined> | T | undefined,
  ms = 15_000,
): Promise<T> {
  const deadline = performance.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await f();
      if (v !== undefined) return v;
    } catch (e) {
      last = e;
    }
    if (performance.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** what a promise settled to, and when (ms on the monotonic clock) */
export async function settle<T>(
  p: Promise<T>,
): Promise<{ ok: boolean; value?: T; error?: unknown; ms: number }> {
  const t0 = performance.now();
  try {
    const value = await p;
    return { ok: true, value, ms: performance.now() - t0 };
  } catch (error) {
    return { ok: false, error, ms: performance.now() - t0 };
  }
}
