#!/usr/bin/env node
import { Command, Option } from 'commander';
import { checkSecrets, configFromFlags, loadConfigFile } from '../config/index.js';
import type { FlagOptions, LegiondConfig } from '../config/types.js';
import { Daemon } from '../daemon/daemon.js';
import { createLogger } from '../daemon/logger.js';
import { notifierFromEnv } from '../daemon/notify/sd-notifier.js';
import { allObservers } from '../daemon/observer.js';
import { shutdownDeadlineMs } from '../daemon/shutdown-deadline.js';
import { isLegiondError } from '../errors.js';
import { packageVersion } from './version.js';

/**
 * Exit 2: the configuration is wrong, or a resource it names cannot be had (a UDP port, the
 * control socket or the state directory taken by another daemon, an address this host does not
 * have). Nothing has run then: every such resource is taken before the first hook. Anything else 1.
 */
const EXIT_2_CODES = new Set([
  'ERR_CONFIG',
  'ERR_ADDRESS',
  'ERR_ADDRESS_IN_USE',
  'ERR_BIND',
  'ERR_MULTICAST',
  'ERR_CONTROL_IN_USE',
  'ERR_HTTP_IN_USE',
  'ERR_HTTP_TOKEN',
  'ERR_CONTROL_PATH',
  'ERR_STATE_LOCKED',
  'ERR_STATE_DIR',
]);

function fail(e: unknown): never {
  const msg = e instanceof Error ? e.message : String(e);
  const code = isLegiondError(e) ? ` (${e.code})` : '';
  process.stderr.write(`legiond: ${msg}${code}\n`);
  process.exit(isLegiondError(e) && (EXIT_2_CODES.has(e.code) || e.code.startsWith('ERR_SECRET')) ? 2 : 1);
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

const program = new Command('legiond')
  .description('cluster membership and lord election daemon')
  .version(packageVersion(), '-V, --version', 'print the version and exit')
  .showHelpAfterError()
  .option('-c, --config <file>', 'YAML configuration file with every legion')
  .option('--legion <name>', 'run one legion from flags: its name')
  .option('--protocol <native|uwsgi>', 'wire protocol')
  .option('--backend <udp|etcd|postgres>', 'who decides lordship: UDP votes, or an engine (strong mode)')
  .option('--etcd-endpoint <host:port>', 'etcd endpoint, with --backend etcd (repeatable)', collect)
  .option('--etcd-prefix <prefix>', 'etcd key prefix (default /legiond)')
  .option('--postgres-url <url>', 'PostgreSQL connection URL, with --backend postgres')
  .option('--engine-ttl <duration>', "the engine's lease TTL (default 5s)")
  .option('--bind <addr:port>', 'address and port to listen on')
  .option(
    '--http <addr:port>',
    'serve the status page /, /events, /metrics, /healthz, /readyz and /lord/NAME here (loopback unless a token is given)',
  )
  .option('--http-token-file <file>', 'a 0600 file holding the bearer token every HTTP request must carry')
  .option('--peer <host:port>', 'unicast peer, also a seed to learn the others through (repeatable)', collect)
  .option('--no-learn-peers', 'send only to the listed peers; learn no others through them')
  .option('--learned-peers-max <n>', 'most peers learned through the seeds')
  .option('--multicast <group:port>', 'multicast group')
  .option('--multicast-interface <addr>', 'interface address for multicast')
  .option('--multicast-ttl <n>', 'multicast TTL')
  .option('--valor <n>', 'valor (0 = arbiter)')
  .option('--observer', 'follow the legion only: never vote, stand or count toward quorum')
  .option('--node-name <name>', 'node name (default: hostname)')
  .option('--quorum <q>', 'votes needed to be lord')
  .option('--interval <duration>', 'announce interval, e.g. 250ms')
  .option('--tolerance <duration>', 'a member is dead after this silence, e.g. 1s')
  .option('--jitter <fraction>', 'announce jitter, 0..0.5')
  .addOption(new Option('--no-preempt', 'keep the current lord while it lives'))
  .option('--preempt-delay <duration>', 'a better node must stay best this long to take over')
  .option('--lord-delay <duration>', 'a new lord waits this long before its lord hooks')
  .option('--secret-file <file>', 'file holding the shared secret (mode 0600)')
  .option('--accept-secret-file <file>', 'extra secret accepted during a key rotation (repeatable)', collect)
  .option('--insecure', 'send and accept unauthenticated announces')
  .option('--cipher <name>', 'uWSGI cipher, e.g. aes-128-cbc (protocol uwsgi)')
  .option('--iv <text>', 'uWSGI IV string (protocol uwsgi)')
  .option('--scroll <text>', 'scroll published to the legion')
  .option('--scroll-file <file>', 'file whose contents are the scroll')
  .option('--control <path>', 'control socket path')
  .option('--state-dir <dir>', 'directory where epochs are persisted')
  .option('--on <event=command>', 'hook: run COMMAND on EVENT (repeatable)', collect)
  .option('--hook-timeout <duration>', 'hook timeout')
  .option('--hold-timeout <duration>', 'how long a departing lord waits for its unlord hooks')
  .option('--lord-hook-failure-stepdown <duration>', 'step down this long when a lord hook fails')
  .option('--log-level <level>', 'trace, debug, info, warn, error')
  .action(async (opts: Record<string, unknown>) => {
    await run(opts);
  });

program
  .command('check-config <file>')
  .description('validate a configuration file (and its secret files) and exit')
  // a config written for another host (the shipped example, a file checked in CI) names secret
  // files that exist only where it is deployed: validate everything else
  .option('--no-secrets', 'do not read the secret files (their paths are still validated)')
  .action(async (file: string, o: { secrets: boolean }) => {
    try {
      const cfg = await loadConfigFile(file);
      if (o.secrets) await checkSecrets(cfg);
      const n = cfg.legions.length;
      const unread = o.secrets ? '' : ', secret files not read';
      process.stdout.write(`${file}: ok (${n} legion${n === 1 ? '' : 's'}${unread})\n`);
    } catch (e) {
      if (isLegiondError(e) && e.code.startsWith('ERR_SECRET'))
        process.stderr.write(
          'legiond: (check-config --no-secrets validates the rest without reading them)\n',
        );
      fail(e);
    }
  });

function flagsFrom(opts: Record<string, unknown>): FlagOptions {
  const { on, cipher, iv, config: _c, ...rest } = opts;
  return {
    ...(rest as FlagOptions),
    ...(on ? { hook: on as string[] } : {}),
    ...(cipher !== undefined ? { uwsgiCipher: cipher as string } : {}),
    ...(iv !== undefined ? { uwsgiIv: iv as string } : {}),
  };
}

async function loadFromOpts(
  opts: Record<string, unknown>,
): Promise<{ config: LegiondConfig; reload: (() => Promise<LegiondConfig>) | null }> {
  if (typeof opts.config === 'string') {
    const file = opts.config;
    if (opts.legion !== undefined) throw new Error('give either --config or --legion, not both');
    if (opts.http !== undefined || opts.httpTokenFile !== undefined)
      throw new Error('--http goes with --legion; with --config, set http: in the file');
    return { config: await loadConfigFile(file), reload: () => loadConfigFile(file) };
  }
  if (opts.legion === undefined) program.help({ error: true });
  return { config: configFromFlags(flagsFrom(opts)), reload: null };
}

async function run(opts: Record<string, unknown>): Promise<void> {
  let loaded: Awaited<ReturnType<typeof loadFromOpts>>;
  try {
    loaded = await loadFromOpts(opts);
    await checkSecrets(loaded.config);
  } catch (e) {
    fail(e);
  }
  const { config, reload } = loaded;
  const logger = createLogger({ level: config.logLevel });
  const deadline = shutdownDeadlineMs(config);
  const notifier = notifierFromEnv(process.env, logger);
  // prom-client and the HTTP server load only when configured (about 5 MiB of a node's memory)
  const http = config.http
    ? new (await import('../http/endpoint.js')).HttpEndpoint({ config: config.http, logger })
    : null;
  const observers = [...(notifier ? [notifier] : []), ...(http ? [http] : [])];
  const daemon = new Daemon({
    config,
    logger,
    reload,
    shutdownDeadlineMs: deadline,
    ...(observers.length > 0 ? { observer: allObservers(observers) } : {}),
    ...(http ? { http } : {}),
  });
  daemon.installSignals();
  try {
    await daemon.start();
  } catch (e) {
    logger.fatal({ err: e }, 'could not start');
    await daemon.stop().catch(() => undefined);
    fail(e);
  }
}

program.parseAsync(process.argv).catch(fail);
