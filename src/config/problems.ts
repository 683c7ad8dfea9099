/** Turning validation issues into one ERR_CONFIG error whose lines name the source and the key. */
import type { z } from 'zod';
import { LegiondError } from '../errors.js';
import { HOOK_EVENTS } from './schema.js';

export type KeyPath = ReadonlyArray<string | number>;

export interface ConfigProblem {
  path: KeyPath;
  message: string;
}

/** An ERR_CONFIG error; `problems` holds one line per issue, the same lines as the message. */
export class ConfigError extends LegiondError {
  readonly problems: string[];
  constructor(problems: string[]) {
    super('ERR_CONFIG', problems.join('\n'));
    this.problems = problems;
  }
}

/** `legions[0].multicast.group` */
export function formatPath(path: KeyPath): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}

const NOUNS: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

export function problemsFromZod(error: z.ZodError): ConfigProblem[] {
  const out: ConfigProblem[] = [];
  for (const iss of error.issues) {
    const path = iss.path.filter((p): p is string | number => typeof p !== 'symbol');
    switch (iss.code) {
      case 'unrecognized_keys':
        for (const key of iss.keys) {
          const message =
            path.at(-1) === 'hooks'
              ? `unknown hook event (events: ${HOOK_EVENTS.join(', ')})`
              : 'unknown key';
          out.push({ path: [...path, key], message });
        }
        break;
      case 'invalid_type':
        out.push({
          path,
          message: iss.input === undefined ? 'required' : `expected ${NOUNS[iss.expected] ?? iss.expected}`,
        });
        break;
      case 'invalid_value':
        out.push({ path, message: `expected one of: ${iss.values.map(String).join(', ')}` });
        break;
      default:
        out.push({ path, message: iss.message });
    }
  }
  return out;
}

/**
 * @param source the file name (or "command line")
 * @param describe how a key path is shown: the YAML path, or the flag that set it
 * @param locate optional line number of a key path, appended as "(line N)"
 */
export function configError(
  source: string,
  problems: ConfigProblem[],
  describe: (path: KeyPath) => string = formatPath,
  locate?: (path: KeyPath) => number | undefined,
): ConfigError {
  return new ConfigError(
    problems.map((p) => {
      const where = describe(p.path);
      const line = locate?.(p.path);
      return `${source}: ${where === '' ? '' : `${where}: `}${p.message}${line === undefined ? '' : ` (line ${line})`}`;
    }),
  );
}
