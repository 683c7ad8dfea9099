/**
 * One legion given on the command line. The flags are mapped to the same raw object a YAML file
 * would give and validated by the same schema; error lines name the flag instead of the key.
 */
import { type ConfigProblem, configError, type KeyPath, problemsFromZod } from './problems.js';
import { resolveConfig } from './resolve.js';
import { configSchema, HOOK_EVENTS } from './schema.js';
import type { FlagOptions, LegiondConfig } from './types.js';

export const FLAGS_SOURCE = 'command line';

const SPECIAL_FLAGS: Record<string, string> = {
  name: '--legion',
  peers: '--peer',
  accept_secret_files: '--accept-secret-file',
  hooks: '--hook',
  lord_hook_failure: '--lord-hook-failure-stepdown',
};

const ENGINE_FLAGS: Record<string, string> = {
  endpoints: '--etcd-endpoint',
  prefix: '--etcd-prefix',
  ttl: '--engine-ttl',
  url: '--postgres-url',
};

/** The flag that sets a schema key path. */
export function flagFor(path: KeyPath): string {
  const [top, httpKey, key, sub] = path;
  if (top === 'http') return httpKey === 'token_file' ? '--http-token-file' : '--http';
  if (top !== 'legions') return typeof top === 'string' ? `--${top.replace(/_/g, '-')}` : '';
  if (typeof key !== 'string') return '--legion';
  if (key === 'multicast') return sub === 'group' || sub === undefined ? '--multicast' : `--multicast-${sub}`;
  if ((key === 'etcd' || key === 'postgres') && typeof sub === 'string')
    return ENGINE_FLAGS[sub] ?? `--${key}-${sub.replace(/_/g, '-')}`;
  if (key === 'uwsgi') return `--uwsgi-${typeof sub === 'string' ? sub : 'cipher'}`;
  return SPECIAL_FLAGS[key] ?? `--${key.replace(/_/g, '-')}`;
}

/** Commander gives strings; numeric-looking ones become numbers so `--quorum 2` is an integer. */
function num(v: string | number | undefined): unknown {
  if (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
  return v;
}

export function configFromFlags(flags: FlagOptions, opts: { hostname?: () => string } = {}): LegiondConfig {
  const problems: ConfigProblem[] = [];
  const hooks: Record<string, string[]> = {};
  for (const spec of flags.hook ?? []) {
    const eq = spec.indexOf('=');
    if (eq <= 0) {
      problems.push({ path: ['legions', 0, 'hooks'], message: `"${spec}": expected EVENT=COMMAND` });
      continue;
    }
    const event = spec.slice(0, eq);
    if (!(HOOK_EVENTS as readonly string[]).includes(event)) {
      problems.push({
        path: ['legions', 0, 'hooks'],
        message: `"${spec}": unknown event "${event}" (events: ${HOOK_EVENTS.join(', ')})`,
      });
      continue;
    }
    hooks[event] ??= [];
    hooks[event].push(spec.slice(eq + 1));
  }
  const multicast =
    flags.multicast !== undefined
      ? {
          group: flags.multicast,
          interface: flags.multicastInterface,
          ttl: num(flags.multicastTtl),
          loop: flags.multicastLoop,
        }
      : undefined;
  const uwsgi =
    flags.uwsgiCipher !== undefined || flags.uwsgiIv !== undefined
      ? { cipher: flags.uwsgiCipher, iv: flags.uwsgiIv }
      : undefined;
  const legion = {
    name: flags.legion,
    protocol: flags.protocol,
    backend: flags.backend,
    ...engineFlags(flags),
    valor: flags.valor,
    role: flags.observer ? 'observer' : undefined,
    node_name: flags.nodeName,
    bind: flags.bind,
    peers: flags.peer,
    peer_resolve_interval: flags.peerResolveInterval,
    learn_peers: flags.learnPeers,
    learned_peers_max: num(flags.learnedPeersMax),
    multicast,
    quorum: num(flags.quorum),
    interval: flags.interval,
    tolerance: flags.tolerance,
    jitter: num(flags.jitter),
    preempt: flags.preempt,
    preempt_delay: flags.preemptDelay,
    lord_delay: flags.lordDelay,
    scroll: flags.scroll,
    scroll_file: flags.scrollFile,
    secret_file: flags.secretFile,
    accept_secret_files: flags.acceptSecretFile,
    insecure: flags.insecure,
    uwsgi,
    hooks: Object.keys(hooks).length > 0 ? hooks : undefined,
    hook_timeout: flags.hookTimeout,
    hold_timeout: flags.holdTimeout,
    lord_hook_failure:
      flags.lordHookFailureStepdown !== undefined ? { stepdown: flags.lordHookFailureStepdown } : undefined,
  };
  const raw = {
    log_level: flags.logLevel,
    control: flags.control,
    state_dir: flags.stateDir,
    http:
      flags.http !== undefined || flags.httpTokenFile !== undefined
        ? { listen: flags.http, token_file: flags.httpTokenFile }
        : undefined,
    legions: [stripUndefined(legion)],
  };
  const parsed = configSchema.safeParse(stripUndefined(raw), { reportInput: true });
  if (!parsed.success) problems.push(...problemsFromZod(parsed.error));
  if (problems.length > 0 || !parsed.success) throw configError(FLAGS_SOURCE, problems, flagFor);
  const resolved = resolveConfig(parsed.data, { baseDir: process.cwd(), ...opts });
  if (Array.isArray(resolved)) throw configError(FLAGS_SOURCE, resolved, flagFor);
  return resolved;
}

/** --etcd-endpoint, --etcd-prefix, --postgres-url and --engine-ttl as the backend's section */
function engineFlags(flags: FlagOptions): Record<string, unknown> {
  const ttl = flags.engineTtl;
  if (flags.etcdEndpoint !== undefined || flags.etcdPrefix !== undefined)
    return { etcd: { endpoints: flags.etcdEndpoint ?? [], prefix: flags.etcdPrefix, ttl } };
  if (flags.postgresUrl !== undefined) return { postgres: { url: flags.postgresUrl, ttl } };
  return {};
}

/** Unset flags must look like absent keys, or strict objects would report them as wrong types. */
function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(o)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => [k, v !== null && typeof v === 'object' && !Array.isArray(v) ? stripUndefined(v) : v]),
  ) as Partial<T>;
}
