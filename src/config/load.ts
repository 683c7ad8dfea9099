/** Loading a YAML config file: syntax, then schema, then resolve; every failure is one ERR_CONFIG. */
import { readFile } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import { type Document, LineCounter, parseDocument } from 'yaml';
import { ConfigError, configError, formatPath, type KeyPath, problemsFromZod } from './problems.js';
import { type ResolveOptions, resolveConfig } from './resolve.js';
import { configSchema } from './schema.js';
import type { LegiondConfig } from './types.js';

export type ParseOptions = Partial<ResolveOptions>;

export async function loadConfigFile(
  path: string,
  opts: Omit<ParseOptions, 'baseDir'> = {},
): Promise<LegiondConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? String(e);
    throw new ConfigError([`${path}: cannot read the config file: ${code}`]);
  }
  return parseConfigText(text, path, { ...opts, baseDir: dirname(resolvePath(path)) });
}

/**
 * @param sourceName shown at the start of every error line (normally the file path)
 * @param opts.baseDir relative paths in the config are taken from here; default: the cwd
 */
export function parseConfigText(text: string, sourceName: string, opts: ParseOptions = {}): LegiondConfig {
  const lineCounter = new LineCounter();
  // Integers as bigint so a valor up to 2^64-1 survives; small ones are turned back into numbers.
  const doc = parseDocument(text, { intAsBigInt: true, uniqueKeys: true, lineCounter, prettyErrors: false });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const { line, col } = lineCounter.linePos(e.pos[0]);
        return `${sourceName}:${line}:${col}: YAML syntax error: ${e.message.split('\n')[0]}`;
      }),
    );
  }
  let raw: unknown;
  try {
    raw = normaliseInts(doc.toJS({ maxAliasCount: 100 }));
  } catch (e) {
    throw new ConfigError([`${sourceName}: ${e instanceof Error ? e.message : String(e)}`]);
  }
  const locate = (path: KeyPath) => lineOf(doc, lineCounter, path);
  const parsed = configSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) throw configError(sourceName, problemsFromZod(parsed.error), formatPath, locate);
  const resolved = resolveConfig(parsed.data, {
    baseDir: opts.baseDir ?? process.cwd(),
    ...dropUndefined(opts),
  });
  if (Array.isArray(resolved)) throw configError(sourceName, resolved, formatPath, locate);
  return resolved;
}

function dropUndefined(o: ParseOptions): ParseOptions {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}

/** Line of the deepest node on `path` that exists in the document (a missing key points at its parent). */
function lineOf(doc: Document, lc: LineCounter, path: KeyPath): number | undefined {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    if (node?.range) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}

export function normaliseInts(v: unknown): unknown {
  if (typeof v === 'bigint') {
    return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
  }
  if (Array.isArray(v)) return v.map(normaliseInts);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, normaliseInts(x)]));
  }
  return v;
}
