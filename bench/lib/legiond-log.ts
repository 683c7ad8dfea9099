/** Reading legiond's JSON log lines (pino: `time` is epoch milliseconds, `msg` the message). */
import { readFileSync } from 'node:fs';

/** Time of the first line with message `msg` logged at or after `sinceMs`, or null. */
export function firstLogTime(file: string, msg: string, sinceMs: number): number | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return null;
  }
  for (const line of text.split('\n')) {
    if (!line.includes(msg)) continue;
    try {
      const j = JSON.parse(line) as { time?: unknown; msg?: unknown };
      if (j.msg === msg && typeof j.time === 'number' && j.time >= sinceMs) return j.time;
    } catch {
      // a partial last line
    }
  }
  return null;
}
