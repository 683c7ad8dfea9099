/**
 * The config file's schema (snake_case, as written) and its mapping to the typed config
 * (camelCase). Objects are strict, so an unknown key is an error rather than a silent no-op.
 * File-system and host lookups (scroll_file, node_name default) happen later, in resolve.ts.
 */
import { z } from 'zod';
import type { HookCommand } from '../hooks/types.js';
import { HOOK_EVENTS, type HookEvent } from '../legion/types.js';
import { isLoopbackAddress, isMulticastAddress } from './address.js';
import { controlReadSchema } from './control-read.js';
import { DURATION_HINT, parseDuration } from './duration.js';
import { engineConfig, engineRules, etcdSchema, postgresSchema } from './engine.js';
import { field } from './field.js';
import {
  Bad,
  MAX_SCROLL_BYTES,
  parseAddress,
  parseCommand,
  parseCommandList,
  parseCronSchedule,
  parseIntIn,
  parseName,
  parseU64,
} from './values.js';

export { HOOK_EVENTS };

export const DEFAULT_CONTROL_SOCKET = '/run/legiond/legiond.sock';

const duration = () =>
  field((v) => {
    if (v === undefined) return new Bad('required');
    return parseDuration(v) ?? new Bad(DURATION_HINT);
  });
const intIn = (min: number, max: number) => field((v) => parseIntIn(v, min, max));
const u64 = () => field(parseU64);
const command = () => field(parseCommand);
const path = () => z.string().min(1, { error: 'must not be empty' });

const multicastSchema = z.strictObject({
  group: field((v) => {
    const a = parseAddress(v, { ipOnly: true, allowPortZero: false });
    if (a instanceof Bad) return a;
    return isMulticastAddress(a.host) ? a : new Bad(`"${String(v)}": ${a.host} is not a multicast address`);
  }),
  interface: z.string().min(1, { error: 'must not be empty' }).optional(),
  ttl: intIn(0, 255).default(1),
  loop: z.boolean().default(true),
});

/**
 * One key per event, named as the event (`lord`, `node-joined`, `lord-changed`, `scroll-changed`,
 * …): HOOK_EVENTS is the one list, so a new event gets its key here and its env in hooks/env.ts.
 */
const hooksShape = Object.fromEntries(
  HOOK_EVENTS.map((e) => [e, field(parseCommandList).optional()]),
) as Record<HookEvent, z.ZodOptional<ReturnType<typeof field<HookCommand[]>>>>;
const hooksSchema = z.strictObject(hooksShape);

const cronSchema = z.strictObject({
  schedule: field(parseCronSchedule),
  command: command(),
  timeout: duration().optional(),
});

const daemonSchema = z.strictObject({
  command: command(),
  grace: duration().default(5000),
  restart_backoff: duration().default(1000),
});

const checkSchema = z.strictObject({
  command: command(),
  interval: duration().default(5000),
  timeout: duration().default(2000),
  weight: u64(),
  rise: intIn(1, 1000).default(2),
  fall: intIn(1, 1000).default(3),
});

/** uWSGI stores a member's valor in a 16-bit field (core/legion.c) */
export const UWSGI_MAX_VALOR = 65535n;

/** What `protocol: uwsgi` needs so a uWSGI legion can take the node in. */
function uwsgiRules(
  l: {
    valor?: bigint | undefined;
    secret_file?: string | undefined;
    insecure: boolean;
    accept_secret_files: string[];
  },
  issue: (path: string, message: string) => void,
): void {
  if ((l.valor ?? 1n) > UWSGI_MAX_VALOR) {
    issue(
      'valor',
      `must be at most ${UWSGI_MAX_VALOR} with protocol uwsgi: uWSGI keeps a member's valor in 16 bits, ` +
        'so uWSGI nodes would see a different valor and the legion would never agree on a lord',
    );
  }
  if (l.insecure) {
    issue(
      'insecure',
      'not allowed with protocol uwsgi: uWSGI always encrypts legion packets; set secret_file (--secret-file)',
    );
  } else if (l.secret_file === undefined) {
    issue(
      'secret_file',
      'required with protocol uwsgi: a file holding the secret of the uWSGI --legion option (uWSGI always encrypts)',
    );
  }
  if (l.accept_secret_files.length > 0) {
    issue(
      'accept_secret_files',
      'not supported with protocol uwsgi: uWSGI packets carry no key id to rotate by',
    );
  }
}

/** An observer follows the legion: it has nothing to stand with and nothing to run on its own. */
function observerRules(
  l: { protocol: string; valor?: bigint | undefined; cron: unknown[]; daemons: unknown[] },
  issue: (path: string, message: string) => void,
): void {
  if (l.protocol === 'uwsgi') issue('role', 'observer is not supported with protocol uwsgi');
  if (l.valor !== undefined && l.valor !== 0n)
    issue('valor', 'an observer never stands: remove valor (or set role: member)');
  if (l.daemons.length > 0) issue('daemons', 'an observer never runs lord-only work');
  if (l.cron.length > 0) issue('cron', 'an observer never runs lord-only work');
}

const legionSchema = z
  .strictObject({
    name: field(parseName),
    protocol: z.enum(['native', 'uwsgi']).default('native'),
    backend: z.enum(['udp', 'etcd', 'postgres']).default('udp'),
    etcd: etcdSchema.optional(),
    postgres: postgresSchema.optional(),
    valor: u64().optional(),
    role: z.enum(['member', 'observer']).default('member'),
    node_name: field(parseName).optional(),
    bind: field((v) => parseAddress(v, { ipOnly: true, allowPortZero: true })).optional(),
    peers: z.array(field((v) => parseAddress(v, { ipOnly: false, allowPortZero: false }))).default([]),
    peer_resolve_interval: duration().default(30_000),
    learn_peers: z.boolean().default(true),
    learned_peers_max: intIn(1, 4096).default(128),
    multicast: multicastSchema.optional(),
    quorum: intIn(1, 65535).default(1),
    interval: duration().default(250),
    tolerance: duration().default(1000),
    jitter: z
      .number()
      .min(0, { error: 'must be from 0 to 0.5' })
      .max(0.5, { error: 'must be from 0 to 0.5' })
      .default(0.2),
    preempt: z.boolean().default(true),
    preempt_delay: duration().default(0),
    lord_delay: duration().default(0),
    scroll: z
      .string()
      .refine((s) => Buffer.byteLength(s, 'utf8') <= MAX_SCROLL_BYTES, {
        error: `must be at most ${MAX_SCROLL_BYTES} bytes`,
      })
      .optional(),
    scroll_file: path().optional(),
    secret_file: path().optional(),
    accept_secret_files: z.array(path()).default([]),
    insecure: z.boolean().default(false),
    uwsgi: z
      .strictObject({
        cipher: z.string().min(1, { error: 'must not be empty' }).default('aes-128-cbc'),
        iv: z.string().optional(),
      })
      .optional(),
    hooks: hooksSchema.default({}),
    hook_timeout: duration().default(10_000),
    hold_timeout: duration().default(15_000),
    lord_hook_failure: z.strictObject({ stepdown: duration() }).optional(),
    cron: z.array(cronSchema).default([]),
    daemons: z.array(daemonSchema).default([]),
    checks: z.array(checkSchema).default([]),
  })
  .superRefine((l, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    engineRules(l, issue);
    const udp = l.backend === 'udp';
    if (udp && l.peers.length === 0 && !l.multicast)
      issue('peers', 'set peers, multicast or both: the legion needs a way to announce');
    if (l.tolerance <= l.interval) issue('tolerance', `must exceed interval (${l.interval}ms)`);
    if (l.scroll !== undefined && l.scroll_file !== undefined)
      issue('scroll_file', 'set scroll or scroll_file, not both');
    if (l.protocol === 'uwsgi') {
      uwsgiRules(l, issue);
      // the uWSGI core follows uWSGI's rules, which have no such events: the hook would never run
      for (const e of ['lord-changed', 'scroll-changed'] as const)
        if ((l.hooks?.[e]?.length ?? 0) > 0) issue('hooks', `${e}: not emitted with protocol uwsgi`);
    } else if (udp) {
      if (l.secret_file !== undefined && l.insecure)
        issue('insecure', 'set either secret_file or insecure: true, not both');
      if (l.secret_file === undefined && !l.insecure) {
        issue(
          'secret_file',
          'required: packets are authenticated with this key (or set insecure: true to send plaintext)',
        );
      }
    }
    if (l.insecure && l.accept_secret_files.length > 0)
      issue('accept_secret_files', 'has no effect with insecure: true');
    if (l.uwsgi !== undefined && l.protocol !== 'uwsgi') issue('uwsgi', 'only valid with protocol: uwsgi');
    if (l.role === 'observer') observerRules(l, issue);
  })
  .transform((l) => ({
    name: l.name,
    protocol: l.protocol,
    backend: l.backend,
    engine: engineConfig(l),
    valor: l.role === 'observer' ? 0n : (l.valor ?? 1n),
    observer: l.role === 'observer',
    nodeName: l.node_name,
    // strong mode opens no UDP socket; the field stays for the shape the UDP side reads
    bind: l.bind ?? { host: '127.0.0.1', port: 0 },
    peers: l.peers,
    peerResolveIntervalMs: l.peer_resolve_interval,
    learnPeers: l.learn_peers,
    learnedPeersMax: l.learned_peers_max,
    multicast: l.multicast
      ? {
          group: l.multicast.group,
          interface: l.multicast.interface ?? null,
          ttl: l.multicast.ttl,
          loop: l.multicast.loop,
        }
      : null,
    quorum: l.quorum,
    intervalMs: l.interval,
    toleranceMs: l.tolerance,
    jitter: l.jitter,
    preempt: l.preempt,
    preemptDelayMs: l.preempt_delay,
    lordDelayMs: l.lord_delay,
    scrollText: l.scroll,
    scrollFile: l.scroll_file,
    secretFile: l.secret_file,
    acceptSecretFiles: l.accept_secret_files,
    insecure: l.insecure,
    uwsgi: { cipher: l.uwsgi?.cipher ?? 'aes-128-cbc', iv: l.uwsgi?.iv ?? null },
    hooks: Object.fromEntries(HOOK_EVENTS.map((e) => [e, l.hooks[e] ?? []])) as Record<
      HookEvent,
      HookCommand[]
    >,
    hookTimeoutMs: l.hook_timeout,
    holdTimeoutMs: l.hold_timeout,
    lordHookFailure: l.lord_hook_failure ? { stepdownMs: l.lord_hook_failure.stepdown } : null,
    cron: l.cron.map((c) => ({ schedule: c.schedule, command: c.command, timeoutMs: c.timeout ?? null })),
    daemons: l.daemons.map((d) => ({
      command: d.command,
      graceMs: d.grace,
      restartBackoffMs: d.restart_backoff,
    })),
    checks: l.checks.map((c) => ({
      command: c.command,
      intervalMs: c.interval,
      timeoutMs: c.timeout,
      weight: c.weight,
      rise: c.rise,
      fall: c.fall,
    })),
  }));

export const DEFAULT_HTTP_LISTEN = { host: '127.0.0.1', port: 9442 };

/** metrics and health endpoints; a listen address others can reach needs a bearer token */
const httpSchema = z
  .strictObject({
    listen: field((v) => parseAddress(v, { ipOnly: true, allowPortZero: false })).default(() => ({
      ...DEFAULT_HTTP_LISTEN,
    })),
    token_file: path().optional(),
  })
  .superRefine((h, ctx) => {
    if (h.token_file !== undefined || isLoopbackAddress(h.listen.host)) return;
    ctx.addIssue({
      code: 'custom',
      path: ['token_file'],
      message: `required: listen ${h.listen.host}:${h.listen.port} is not a loopback address, so requests need a bearer token read from a 0600 file`,
    });
  });

export const configSchema = z
  .strictObject({
    log_level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info'),
    control: path().default(DEFAULT_CONTROL_SOCKET),
    control_read: controlReadSchema.optional(),
    state_dir: path().optional(),
    http: httpSchema.optional(),
    legions: z.array(legionSchema).min(1, { error: 'at least one legion is required' }),
  })
  .superRefine((c, ctx) => {
    const seen = new Set<string>();
    c.legions.forEach((l, i) => {
      if (seen.has(l.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['legions', i, 'name'],
          message: `duplicate legion name "${l.name}"`,
        });
      }
      seen.add(l.name);
    });
  })
  .transform((c) => ({
    logLevel: c.log_level,
    control: c.control,
    controlRead: c.control_read ?? null,
    stateDir: c.state_dir ?? null,
    http: c.http ? { listen: c.http.listen, tokenFile: c.http.token_file ?? null } : null,
    legions: c.legions,
  }));

/** Schema output before resolve.ts fills in the node name, reads scroll_file and absolutizes paths. */
export type ParsedConfig = z.output<typeof configSchema>;
export type ParsedLegion = ParsedConfig['legions'][number];
