import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import type Pretty from 'pino-pretty';

/** pino-pretty is for a person at a terminal: a daemon under systemd never loads it */
const requirePretty = (): typeof Pretty => createRequire(import.meta.url)('pino-pretty');

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** where lines go; defaults to stdout (pino's model: the destination is a parameter) */
  destination?: DestinationStream;
  /** force readable output; defaults to "stdout is a terminal" */
  pretty?: boolean;
}

/** JSON lines for machines, readable lines for a person at a terminal. */
export function createLogger(opts: LoggerOptions = {}): Logger {
  const base = { level: opts.level ?? 'info', base: { pid: process.pid } };
  const wantPretty = opts.pretty ?? (opts.destination === undefined && process.stdout.isTTY === true);
  if (wantPretty) {
    return pino(
      base,
      requirePretty()({ colorize: true, translateTime: 'HH:MM:ss.l', ignore: 'pid,hostname', sync: true }),
    );
  }
  return opts.destination ? pino(base, opts.destination) : pino(base, pino.destination({ sync: true }));
}
