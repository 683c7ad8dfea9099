/**
 * A strong-mode legion's protocol and link: the engine core, and an EngineClient for the
 * configured backend behind an EngineLink. Files (passwords, TLS keys) are read here, when the
 * legion starts, with the same checks as secret files; a failure names the key and the file.
 *
 * A backend plugs in through `engineClientFor`: it maps the legion's config to the client's
 * plain options object and builds the client.
 */
import { readFile } from 'node:fs/promises';
import { readSecretFile } from '../config/secrets.js';
import type { EngineConfig, LegionConfig } from '../config/types.js';
import type { EtcdClientOptions } from '../engine/etcd.js';
import { EngineLink } from '../engine/link.js';
import type { PostgresEngineOptions } from '../engine/postgres.js';
import type { EngineClient } from '../engine/types.js';
import { LegiondError } from '../errors.js';
import { engineMachine } from '../legion/engine/machine.js';
import type { EngineMessage, EngineParams, EngineState } from '../legion/engine/types.js';
import type { Logger } from './logger.js';
import type { Protocol, SomeProtocol } from './protocol-setup.js';

/** the connection part of the PostgreSQL client's options, read from the config */
export type PostgresClientOptions = Pick<
  PostgresEngineOptions,
  'connectionString' | 'host' | 'port' | 'database' | 'user' | 'password' | 'ssl'
>;

async function fileAt(legion: string, key: string, path: string, secret: boolean): Promise<Buffer> {
  try {
    return secret ? Buffer.from(await readSecretFile(path)) : await readFile(path);
  } catch (e) {
    const code = e instanceof LegiondError ? e.code : 'ERR_CONFIG';
    const why = e instanceof Error ? e.message : String(e);
    throw new LegiondError(
      code,
      `legion ${legion}: ${key}: ${why.includes(path) ? why : `${path}: ${why}`}`,
      {
        cause: e,
      },
    );
  }
}

export async function etcdOptions(
  legion: string,
  e: Extract<EngineConfig, { backend: 'etcd' }>,
): Promise<EtcdClientOptions> {
  const c = e.etcd;
  const o: EtcdClientOptions = {
    endpoints: c.endpoints,
    prefix: c.prefix,
    legion,
    // the core gives a request half the TTL; a call left running longer only holds a connection
    callTimeoutMs: Math.max(500, Math.floor(e.ttlMs / 2)),
  };
  if (c.tls) {
    o.tls = {
      ca: await fileAt(legion, 'etcd.tls.ca_file', c.tls.caFile, false),
      ...(c.tls.certFile ? { cert: await fileAt(legion, 'etcd.tls.cert_file', c.tls.certFile, false) } : {}),
      ...(c.tls.keyFile ? { key: await fileAt(legion, 'etcd.tls.key_file', c.tls.keyFile, true) } : {}),
    };
  }
  if (c.username !== null && c.passwordFile !== null) {
    const password = (await fileAt(legion, 'etcd.password_file', c.passwordFile, true)).toString('utf8');
    o.auth = { username: c.username, password };
  }
  return o;
}

export async function postgresOptions(
  legion: string,
  e: Extract<EngineConfig, { backend: 'postgres' }>,
): Promise<PostgresClientOptions> {
  const c = e.postgres;
  const o: PostgresClientOptions = {};
  if (c.url !== null) o.connectionString = c.url;
  if (c.host !== null) o.host = c.host;
  o.port = c.port;
  if (c.database !== null) o.database = c.database;
  if (c.user !== null) o.user = c.user;
  if (c.passwordFile !== null)
    o.password = (await fileAt(legion, 'postgres.password_file', c.passwordFile, true)).toString('utf8');
  if (c.tls) {
    o.ssl = {
      rejectUnauthorized: c.tls.rejectUnauthorized,
      ...(c.tls.caFile ? { ca: await fileAt(legion, 'postgres.tls.ca_file', c.tls.caFile, false) } : {}),
      ...(c.tls.certFile
        ? { cert: await fileAt(legion, 'postgres.tls.cert_file', c.tls.certFile, false) }
        : {}),
      ...(c.tls.keyFile ? { key: await fileAt(legion, 'postgres.tls.key_file', c.tls.keyFile, true) } : {}),
    };
  }
  return o;
}

/** The client for the legion's backend. */
export async function engineClientFor(
  cfg: LegionConfig,
  onWatchError: (e: Error) => void,
): Promise<EngineClient> {
  const e = cfg.engine;
  if (e === null) throw new LegiondError('ERR_INTERNAL', `legion ${cfg.name}: backend udp has no engine`);
  if (e.backend === 'etcd') {
    // loaded only here: gRPC and its protobufs cost a UDP-only daemon nothing
    const { EtcdEngineClient } = await import('../engine/etcd.js');
    return new EtcdEngineClient({ ...(await etcdOptions(cfg.name, e)), onWatchError });
  }
  // loaded only here too: pg costs a UDP-only daemon about 15 MiB and 80 ms at start-up otherwise
  const { PostgresEngine } = await import('../engine/postgres.js');
  return new PostgresEngine({
    ...(await postgresOptions(cfg.name, e)),
    legion: cfg.name,
    // as for etcd: the core gives a request half the TTL; a call left running longer only holds a connection
    timeoutMs: Math.max(500, Math.floor(e.ttlMs / 2)),
    onWatchError,
  });
}

function engineProtocol(cfg: LegionConfig): Protocol<EngineState, EngineMessage> {
  const ttlMs = cfg.engine?.ttlMs ?? 5000;
  const never = (): never => {
    throw new LegiondError('ERR_INTERNAL', 'the engine core exchanges no datagrams');
  };
  const p: Protocol<EngineState, EngineMessage> = {
    machine: engineMachine,
    codec: { encode: never, decode: never },
    initParams: (common): EngineParams => ({ ...common, engine: { ttlMs } }),
    rebuild: async (next) => engineProtocol(next),
  };
  return p;
}

export interface EngineSetup {
  protocol: SomeProtocol;
  link: EngineLink;
}

export async function setupEngine(cfg: LegionConfig, log: Pick<Logger, 'warn'>): Promise<EngineSetup> {
  const client = await engineClientFor(cfg, (err) => log.warn({ err: err.message }, 'engine watch trouble'));
  const p = engineProtocol(cfg);
  return { protocol: { use: (f) => f(p) }, link: new EngineLink(cfg.backend, client) };
}
