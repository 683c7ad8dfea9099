/** The validated configuration as the daemon sees it: camelCase, durations in ms, valor as bigint. */

import type { HookCommand } from '../hooks/types.js';
import type { HookEvent } from '../legion/types.js';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
export type LegionProtocol = 'native' | 'uwsgi';
/** who decides lordship: votes over UDP (default), or a distributed engine (strong mode) */
export type LegionBackend = 'udp' | 'etcd' | 'postgres';

export interface EtcdConfig {
  /** host:port or http(s)://host:port */
  endpoints: string[];
  /** keys live under <prefix>/<legion>/ */
  prefix: string;
  /** absolute paths */
  tls: { caFile: string; certFile: string | null; keyFile: string | null } | null;
  username: string | null;
  /** absolute path of a 0600 file; read with readSecretFile */
  passwordFile: string | null;
}

export interface PostgresConfig {
  url: string | null;
  host: string | null;
  port: number;
  database: string | null;
  user: string | null;
  /** absolute path of a 0600 file; read with readSecretFile */
  passwordFile: string | null;
  tls: {
    caFile: string | null;
    certFile: string | null;
    keyFile: string | null;
    rejectUnauthorized: boolean;
  } | null;
}

/** strong mode: the engine and the TTL of the registration and of the title, as it judges them */
export type EngineConfig =
  | { backend: 'etcd'; ttlMs: number; etcd: EtcdConfig }
  | { backend: 'postgres'; ttlMs: number; postgres: PostgresConfig };

/** A host (IP literal or DNS name, IPv6 without brackets) and a port. */
export interface HostPort {
  host: string;
  port: number;
}

export interface MulticastConfig {
  group: HostPort;
  /** local interface address to join on; null lets the OS choose */
  interface: string | null;
  ttl: number;
  loop: boolean;
}

export interface CronEntry {
  /** 5-field cron pattern */
  schedule: string;
  command: HookCommand;
  /** null: no timeout (a run still never overlaps the previous one) */
  timeoutMs: number | null;
}

export interface DaemonEntry {
  command: HookCommand;
  /** time between SIGTERM and SIGKILL on stop */
  graceMs: number;
  /** first restart delay; doubles up to 30 s */
  restartBackoffMs: number;
}

export interface CheckEntry {
  command: HookCommand;
  intervalMs: number;
  timeoutMs: number;
  weight: bigint;
  rise: number;
  fall: number;
}

export interface UwsgiOptions {
  cipher: string;
  iv: string | null;
}

export interface LegionConfig {
  name: string;
  protocol: LegionProtocol;
  backend: LegionBackend;
  /** null with backend udp */
  engine: EngineConfig | null;
  valor: bigint;
  /** role: observer: hears the legion and knows the lord, never votes, stands or counts */
  observer: boolean;
  nodeName: string;
  bind: HostPort;
  peers: HostPort[];
  peerResolveIntervalMs: number;
  /**
   * peers are seeds: members heard through them are learned and sent to (native protocol with a
   * secret only; see learningOf in daemon/legion-host.ts)
   */
  learnPeers: boolean;
  learnedPeersMax: number;
  multicast: MulticastConfig | null;
  quorum: number;
  intervalMs: number;
  toleranceMs: number;
  jitter: number;
  preempt: boolean;
  preemptDelayMs: number;
  lordDelayMs: number;
  /** the scroll bytes (from `scroll` or the contents of `scroll_file`), empty when neither */
  scroll: Uint8Array;
  /** absolute path when the scroll came from a file, so a reload can re-read it */
  scrollFile: string | null;
  /** absolute path; read lazily with readSecretFile. null only when insecure */
  secretFile: string | null;
  /** extra keys accepted on receive during a rotation (absolute paths) */
  acceptSecretFiles: string[];
  insecure: boolean;
  uwsgi: UwsgiOptions;
  /** every event is present; an event without hooks maps to [] */
  hooks: Record<HookEvent, HookCommand[]>;
  hookTimeoutMs: number;
  /** how long a departing lord waits for its unlord hooks before the death announce */
  holdTimeoutMs: number;
  lordHookFailure: { stepdownMs: number } | null;
  cron: CronEntry[];
  daemons: DaemonEntry[];
  checks: CheckEntry[];
}

/** the read-only control socket: status, members, lord, events, scroll.get, valor.get */
export interface ControlReadConfig {
  /** absolute */
  path: string;
  /** the socket's group; null leaves it the daemon's */
  gid: number | null;
  mode: number;
}

export interface LegiondConfig {
  logLevel: LogLevel;
  /** control socket path (admin: every command, mode 0600) */
  control: string;
  controlRead: ControlReadConfig | null;
  /** absolute path or null; epochs are persisted there */
  stateDir: string | null;
  /** the metrics and health endpoints; null when not configured */
  http: HttpConfig | null;
  legions: LegionConfig[];
}

export interface HttpConfig {
  listen: HostPort;
  /** absolute path of a 0600 file holding the bearer token; null: no token asked */
  tokenFile: string | null;
}

/**
 * A single legion from the command line, as commander hands it over: option values are strings
 * (or string arrays for repeatable options, booleans for switches), validated by the same schema
 * as the YAML file.
 */
export interface FlagOptions {
  logLevel?: string;
  control?: string;
  stateDir?: string;
  /** HOST:PORT of the metrics and health endpoints */
  http?: string;
  httpTokenFile?: string;
  /** legion name */
  legion?: string;
  protocol?: string;
  backend?: string;
  /** repeatable */
  etcdEndpoint?: string[];
  etcdPrefix?: string;
  /** the engine's TTL (etcd or postgres) */
  engineTtl?: string;
  postgresUrl?: string;
  valor?: string | number;
  nodeName?: string;
  bind?: string;
  /** repeatable HOST:PORT */
  peer?: string[];
  peerResolveInterval?: string;
  /** commander's --no-learn-peers: false when given, else undefined or true */
  learnPeers?: boolean;
  learnedPeersMax?: string | number;
  /** --observer */
  observer?: boolean;
  /** GROUP:PORT */
  multicast?: string;
  multicastInterface?: string;
  multicastTtl?: string | number;
  multicastLoop?: boolean;
  quorum?: string | number;
  interval?: string;
  tolerance?: string;
  jitter?: string | number;
  preempt?: boolean;
  preemptDelay?: string;
  lordDelay?: string;
  scroll?: string;
  scrollFile?: string;
  secretFile?: string;
  /** repeatable */
  acceptSecretFile?: string[];
  insecure?: boolean;
  uwsgiCipher?: string;
  uwsgiIv?: string;
  /** repeatable EVENT=SHELL-COMMAND, e.g. `lord=/etc/legiond/vip up` */
  hook?: string[];
  hookTimeout?: string;
  holdTimeout?: string;
  /** step down for this long when a lord hook fails */
  lordHookFailureStepdown?: string;
}
