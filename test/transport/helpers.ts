import pino, { type Logger } from 'pino';

export const silent: Logger = pino({ level: 'silent' });

/** polls `cond` every 10 ms, at most `tries` times; bounded so a broken test fails instead of hanging */
export async function waitFor(cond: () => boolean, what: string, tries = 300): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const bytes = (s: string): Uint8Array => new TextEncoder().encode(s);
export const text = (b: Uint8Array): string => new TextDecoder().decode(b);
