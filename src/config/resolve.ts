/**
 * The step after the schema: fill in what depends on the host (node name), read scroll_file,
 * and make every path absolute against the config file's directory, so a reload from another
 * working directory means the same files.
 */
import { readFileSync, statSync } from 'node:fs';
import { hostname as osHostname } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import { resolveControlRead } from './control-read.js';
import { resolveEngineFiles } from './engine.js';
import type { ConfigProblem } from './problems.js';
import type { ParsedConfig, ParsedLegion } from './schema.js';
import type { LegionConfig, LegiondConfig } from './types.js';
import { Bad, MAX_SCROLL_BYTES, parseName } from './values.js';

export interface ResolveOptions {
  /** relative paths are taken from here (the config file's directory, or the cwd for flags) */
  baseDir: string;
  /** defaults to os.hostname; injected by tests */
  hostname?: () => string;
  /** group name to gid, null when unknown; defaults to the host's (getent) */
  groupId?: (name: string) => number | null;
}

export function resolveConfig(parsed: ParsedConfig, opts: ResolveOptions): LegiondConfig | ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const abs = (p: string) => resolvePath(opts.baseDir, p);
  const legions = parsed.legions.map((l, i) => resolveLegion(l, i, opts, abs, problems));
  const control = abs(parsed.control);
  const controlRead = parsed.controlRead
    ? resolveControlRead(parsed.controlRead, abs, control, problems, opts.groupId)
    : null;
  const tokenFile = parsed.http?.tokenFile ? abs(parsed.http.tokenFile) : null;
  if (tokenFile !== null) checkTokenFile(tokenFile, problems);
  if (problems.length > 0) return problems;
  return {
    logLevel: parsed.logLevel,
    control,
    controlRead,
    stateDir: parsed.stateDir === null ? null : abs(parsed.stateDir),
    http: parsed.http ? { listen: parsed.http.listen, tokenFile } : null,
    legions,
  };
}

function resolveLegion(
  l: ParsedLegion,
  index: number,
  opts: ResolveOptions,
  abs: (p: string) => string,
  problems: ConfigProblem[],
): LegionConfig {
  const at = (key: string) => ['legions', index, key];
  let nodeName = l.nodeName;
  if (nodeName === undefined) {
    const host = (opts.hostname ?? osHostname)();
    const checked = parseName(host);
    if (checked instanceof Bad) {
      problems.push({
        path: at('node_name'),
        message: `the host name "${host}" ${checked.message}; set node_name`,
      });
    }
    nodeName = host;
  }
  let scroll: Uint8Array = new Uint8Array(0);
  const scrollFile = l.scrollFile === undefined ? null : abs(l.scrollFile);
  if (l.scrollText !== undefined) scroll = new Uint8Array(Buffer.from(l.scrollText, 'utf8'));
  if (scrollFile !== null) {
    try {
      scroll = new Uint8Array(readFileSync(scrollFile));
      if (scroll.length > MAX_SCROLL_BYTES) {
        problems.push({
          path: at('scroll_file'),
          message: `${scrollFile} is ${scroll.length} bytes; at most ${MAX_SCROLL_BYTES}`,
        });
      }
    } catch (e) {
      problems.push({ path: at('scroll_file'), message: `cannot read ${scrollFile}: ${errText(e)}` });
    }
  }
  const { scrollText: _text, scrollFile: _file, nodeName: _name, ...rest } = l;
  return {
    ...rest,
    nodeName,
    scroll,
    scrollFile,
    secretFile: l.secretFile === undefined ? null : abs(l.secretFile),
    acceptSecretFiles: l.acceptSecretFiles.map(abs),
    engine: resolveEngineFiles(l.engine, abs),
  };
}

/** the bearer token guards the metrics: a file others can read would hand it out */
function checkTokenFile(file: string, problems: ConfigProblem[]): void {
  const path = ['http', 'token_file'];
  try {
    const st = statSync(file);
    if (!st.isFile()) problems.push({ path, message: `${file} is not a regular file` });
    else if ((st.mode & 0o077) !== 0)
      problems.push({
        path,
        message: `${file} has mode ${(st.mode & 0o777).toString(8)}; it must be readable by its owner only (chmod 600)`,
      });
  } catch (e) {
    problems.push({ path, message: `cannot read ${file}: ${errText(e)}` });
  }
}

function errText(e: unknown): string {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  return code ?? (e instanceof Error ? e.message : String(e));
}
