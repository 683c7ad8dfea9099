/**
 * The `backend` of a legion and the engine sections (`etcd:`, `postgres:`): schema, the rules
 * that tie them to the rest of the legion, and the typed result. In strong mode the engine
 * decides lordship and UDP announces do not run, so the UDP keys are refused rather than ignored.
 */
import { z } from 'zod';
import { DURATION_HINT, parseDuration } from './duration.js';
import { field } from './field.js';
import type { EngineConfig } from './types.js';
import { Bad, parseIntIn } from './values.js';

const path = () => z.string().min(1, { error: 'must not be empty' });

/** etcd's lease TTL is whole seconds (rounded up); 1 s is the least etcd accepts */
const ttl = () =>
  field((v) => {
    const ms = parseDuration(v);
    if (ms === null) return new Bad(DURATION_HINT);
    if (ms < 1000) return new Bad('must be at least 1s: the engine judges the lease in seconds');
    return ms;
  });

/** host:port or an http(s) URL */
const endpoint = () =>
  field((v) => {
    if (typeof v !== 'string' || v.trim() === '') return new Bad('must be host:port or http(s)://host:port');
    const s = v.trim();
    if (/^https?:\/\/[^/\s]+\/?$/.test(s)) return s.replace(/\/$/, '');
    if (/^[^/\s:]+:\d{1,5}$/.test(s) || /^\[[0-9a-fA-F:]+\]:\d{1,5}$/.test(s)) return s;
    return new Bad(`"${s}": must be host:port or http(s)://host:port`);
  });

const tlsFiles = z.strictObject({
  ca_file: path(),
  cert_file: path().optional(),
  key_file: path().optional(),
});

export const etcdSchema = z
  .strictObject({
    endpoints: z.array(endpoint()).min(1, { error: 'at least one endpoint is required' }),
    prefix: z
      .string()
      .regex(/^\/[^\s]*[^/\s]$|^\/$/, { error: 'must start with "/" and not end with one, e.g. /legiond' })
      .default('/legiond'),
    ttl: ttl().default(5000),
    tls: tlsFiles.optional(),
    username: z.string().min(1, { error: 'must not be empty' }).optional(),
    password_file: path().optional(),
  })
  .superRefine((e, ctx) => {
    if (e.tls && (e.tls.cert_file === undefined) !== (e.tls.key_file === undefined))
      ctx.addIssue({ code: 'custom', path: ['tls'], message: 'set cert_file and key_file together' });
    if ((e.username === undefined) !== (e.password_file === undefined))
      ctx.addIssue({
        code: 'custom',
        path: [e.username === undefined ? 'username' : 'password_file'],
        message: 'set username and password_file together',
      });
  });

export const postgresSchema = z
  .strictObject({
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { error: 'must be a postgres:// or postgresql:// URL' })
      .optional(),
    host: z.string().min(1, { error: 'must not be empty' }).optional(),
    port: field((v) => parseIntIn(v, 1, 65535)).default(5432),
    database: z.string().min(1, { error: 'must not be empty' }).optional(),
    user: z.string().min(1, { error: 'must not be empty' }).optional(),
    password_file: path().optional(),
    ttl: ttl().default(5000),
    tls: z
      .strictObject({
        ca_file: path().optional(),
        cert_file: path().optional(),
        key_file: path().optional(),
        reject_unauthorized: z.boolean().default(true),
      })
      .optional(),
  })
  .superRefine((p, ctx) => {
    if (p.url === undefined && p.host === undefined)
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'set url, or host (with database and user)' });
    if (p.url !== undefined && (p.host !== undefined || p.database !== undefined || p.user !== undefined))
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'set url or host/database/user, not both' });
  });

export type EtcdInput = z.output<typeof etcdSchema>;
export type PostgresInput = z.output<typeof postgresSchema>;

interface EngineKeys {
  backend: 'udp' | 'etcd' | 'postgres';
  etcd?: EtcdInput | undefined;
  postgres?: PostgresInput | undefined;
  bind?: unknown;
  peers: unknown[];
  multicast?: unknown;
  quorum: number;
  protocol: string;
  secret_file?: string | undefined;
  insecure: boolean;
  accept_secret_files: unknown[];
}

/** What `backend` asks of the rest of the legion; `issue` names the key. */
export function engineRules(l: EngineKeys, issue: (path: string, message: string) => void): void {
  for (const b of ['etcd', 'postgres'] as const)
    if (l[b] !== undefined && l.backend !== b) issue(b, `only valid with backend: ${b}`);
  if (l.backend === 'udp') {
    if (l.bind === undefined) issue('bind', 'required (the UDP address this node announces from)');
    return;
  }
  const b = l.backend;
  if (l[b] === undefined) issue(b, `required with backend: ${b} (where the engine is)`);
  const unused = `not used with backend: ${b}: the engine decides lordship and UDP announces do not run`;
  if (l.protocol !== 'native') issue('protocol', `must be native with backend: ${b}`);
  if (l.quorum !== 1) issue('quorum', unused);
  if (l.bind !== undefined) issue('bind', unused);
  if (l.peers.length > 0) issue('peers', unused);
  if (l.multicast !== undefined) issue('multicast', unused);
  if (l.secret_file !== undefined) issue('secret_file', unused);
  if (l.insecure) issue('insecure', unused);
  if (l.accept_secret_files.length > 0) issue('accept_secret_files', unused);
}

export function engineConfig(l: EngineKeys): EngineConfig | null {
  if (l.backend === 'etcd' && l.etcd) {
    const e = l.etcd;
    return {
      backend: 'etcd',
      ttlMs: e.ttl,
      etcd: {
        endpoints: e.endpoints,
        prefix: e.prefix,
        tls: e.tls
          ? { caFile: e.tls.ca_file, certFile: e.tls.cert_file ?? null, keyFile: e.tls.key_file ?? null }
          : null,
        username: e.username ?? null,
        passwordFile: e.password_file ?? null,
      },
    };
  }
  if (l.backend === 'postgres' && l.postgres) {
    const p = l.postgres;
    return {
      backend: 'postgres',
      ttlMs: p.ttl,
      postgres: {
        url: p.url ?? null,
        host: p.host ?? null,
        port: p.port,
        database: p.database ?? null,
        user: p.user ?? null,
        passwordFile: p.password_file ?? null,
        tls: p.tls
          ? {
              caFile: p.tls.ca_file ?? null,
              certFile: p.tls.cert_file ?? null,
              keyFile: p.tls.key_file ?? null,
              rejectUnauthorized: p.tls.reject_unauthorized,
            }
          : null,
      },
    };
  }
  return null;
}

/** every file an engine section names, made absolute */
export function resolveEngineFiles(e: EngineConfig | null, abs: (p: string) => string): EngineConfig | null {
  if (e === null) return null;
  const opt = (p: string | null) => (p === null ? null : abs(p));
  if (e.backend === 'etcd') {
    const t = e.etcd.tls;
    return {
      ...e,
      etcd: {
        ...e.etcd,
        tls: t ? { caFile: abs(t.caFile), certFile: opt(t.certFile), keyFile: opt(t.keyFile) } : null,
        passwordFile: opt(e.etcd.passwordFile),
      },
    };
  }
  const t = e.postgres.tls;
  return {
    ...e,
    postgres: {
      ...e.postgres,
      passwordFile: opt(e.postgres.passwordFile),
      tls: t ? { ...t, caFile: opt(t.caFile), certFile: opt(t.certFile), keyFile: opt(t.keyFile) } : null,
    },
  };
}
