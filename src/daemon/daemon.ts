import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { LegionConfig, LegiondConfig } from '../config/types.js';
import { type ControlServer, startControlServer } from '../control/server.js';
import { DaemonControl } from './control-handler.js';
import { LegionHost } from './legion-host.js';
import type { Logger } from './logger.js';
import type { DaemonObserver } from './observer.js';
import { acquireStateLock, type StateLock } from './state-lock.js';

export interface DaemonOptions {
  config: LegiondConfig;
  logger: Logger;
  /** reload source for SIGHUP; null when the config came from flags */
  reload: (() => Promise<LegiondConfig>) | null;
  /** upper bound on a clean shutdown, whatever the hooks do */
  shutdownDeadlineMs?: number;
  /** told of readiness, reloads and shutdown (the sd_notify speaker) */
  observer?: DaemonObserver<LegionHost>;
  /** the metrics and health endpoints: bound with the other exclusive resources, closed last */
  http?: { listen(): Promise<void>; close(): Promise<void> };
}

/** what a reload compares to decide whether a legion's socket or codec must change */
const socketKey = (l: LegionConfig) => [
  l.bind,
  l.peers,
  l.multicast,
  l.peerResolveIntervalMs,
  l.learnPeers,
  l.learnedPeersMax,
];
const codecKey = (l: LegionConfig) => [l.secretFile, l.acceptSecretFiles, l.insecure, l.uwsgi];

/**
 * The whole process: one LegionHost per configured legion, the control socket, the state
 * directory's lock, and the signals. Node UUIDs are drawn here, once per legion per process, and
 * kept across reloads.
 */
export class Daemon {
  /** running legions: what the control socket sees */
  private hosts: LegionHost[] = [];
  private control: ControlServer | null = null;
  private controlRead: ControlServer | null = null;
  private lock: StateLock | null = null;
  private readonly uuids = new Map<string, string>();
  private starting: Promise<void> | null = null;
  private stopping: Promise<void> | null = null;
  private config: LegiondConfig;
  /** fixed at start: a reload cannot move the lock or the socket */
  private readonly stateDir: string | null;
  private readonly controlPath: string;
  private readonly controlReadConfig: LegiondConfig['controlRead'];

  constructor(private readonly o: DaemonOptions) {
    this.config = o.config;
    this.stateDir = o.config.stateDir;
    this.controlPath = o.config.control;
    this.controlReadConfig = o.config.controlRead;
  }

  start(): Promise<void> {
    this.starting ??= this.doStart();
    return this.starting;
  }

  /**
   * Every exclusive resource is taken before anything runs: the state directory's lock, the
   * control socket, then every legion's UDP socket. Only then do the legions start (and their
   * `setup` hooks run). A failure gives back what was taken and throws the LegiondError naming
   * the resource (ERR_STATE_LOCKED, ERR_CONTROL_IN_USE, ERR_ADDRESS_IN_USE, ...).
   */
  private async doStart(): Promise<void> {
    const acquired: LegionHost[] = [];
    try {
      if (this.stateDir) this.lock = await acquireStateLock(this.stateDir);
      const handler = new DaemonControl(
        () => this.hosts,
        (h) => this.leaveLegion(h),
      );
      const read = this.controlReadConfig;
      // before the admin socket: a directory both share is then created searchable (0711)
      if (read) {
        this.controlRead = await startControlServer({
          path: read.path,
          logger: this.o.logger,
          handler,
          access: { kind: 'read', mode: read.mode, gid: read.gid },
        });
      }
      this.control = await startControlServer({ path: this.controlPath, logger: this.o.logger, handler });
      await this.o.http?.listen();
      for (const lc of this.config.legions) {
        const host = this.newHost(lc);
        await host.acquire().catch(async (e) => {
          await host.close();
          throw e;
        });
        acquired.push(host);
      }
    } catch (e) {
      await this.release(acquired);
      throw e;
    }
    if (this.stopping) {
      // a signal arrived while the resources were being taken: run nothing
      await this.release(acquired);
      return;
    }
    for (const host of acquired) {
      host.run();
      this.hosts.push(host);
      this.o.observer?.legionRunning(host);
    }
    this.o.logger.info(
      {
        control: this.controlPath,
        ...(this.controlRead ? { controlRead: this.controlRead.path } : {}),
        legions: this.hosts.map((h) => h.name),
      },
      'legiond running',
    );
  }

  private async release(acquired: LegionHost[]): Promise<void> {
    await Promise.all(acquired.map((h) => h.close().catch(() => undefined)));
    await this.o.http?.close().catch(() => undefined);
    await this.control?.close().catch(() => undefined);
    this.control = null;
    await this.controlRead?.close().catch(() => undefined);
    this.controlRead = null;
    await this.lock?.release().catch(() => undefined);
    this.lock = null;
  }

  private newHost(lc: LegionConfig): LegionHost {
    let uuid = this.uuids.get(lc.name);
    if (!uuid) {
      uuid = randomUUID();
      this.uuids.set(lc.name, uuid);
    }
    if (lc.insecure)
      this.o.logger.warn({ legion: lc.name }, 'insecure: announces are sent and accepted unauthenticated');
    const observer = this.o.observer;
    const host: LegionHost = new LegionHost({
      config: lc,
      uuid,
      logger: this.o.logger,
      stateDir: this.stateDir,
      ...(observer ? { onStep: () => observer.stepped(host) } : {}),
    });
    return host;
  }

  /** a legion added by a reload: acquire and run it at once; a failure is logged, not fatal */
  private async addLegion(lc: LegionConfig): Promise<boolean> {
    const host = this.newHost(lc);
    try {
      await host.acquire();
    } catch (e) {
      await host.close().catch(() => undefined);
      this.o.logger.error(
        { legion: lc.name, err: e, code: (e as { code?: string }).code },
        `SIGHUP: cannot start legion ${lc.name}: ${(e as Error).message}`,
      );
      return false;
    }
    host.run();
    this.hosts.push(host);
    this.o.observer?.legionRunning(host);
    return true;
  }

  private async leaveLegion(h: LegionHost): Promise<void> {
    this.o.observer?.legionLeaving(h);
    await h.leave();
    this.hosts = this.hosts.filter((x) => x !== h);
    if (this.hosts.length === 0) {
      this.o.logger.info('left the last legion; exiting');
      setImmediate(() => void this.stop().then(() => process.exit(0)));
    }
  }

  installSignals(): void {
    const onStop = (sig: string) => {
      this.o.logger.info({ signal: sig }, 'shutting down');
      void this.stop().then(() => process.exit(0));
    };
    process.on('SIGTERM', () => onStop('SIGTERM'));
    process.on('SIGINT', () => onStop('SIGINT'));
    process.on('SIGHUP', () => void this.reload());
  }

  async reload(): Promise<void> {
    if (!this.o.reload) {
      this.o.logger.warn('SIGHUP: configuration came from flags; nothing to reload');
      return;
    }
    this.o.observer?.reloading();
    try {
      await this.reloadFile(this.o.reload);
    } finally {
      this.o.observer?.reloaded();
    }
  }

  private async reloadFile(load: () => Promise<LegiondConfig>): Promise<void> {
    let next: LegiondConfig;
    try {
      next = await load();
    } catch (e) {
      this.o.logger.error({ err: e }, 'SIGHUP: new configuration rejected; keeping the old one');
      return;
    }
    if (next.control !== this.controlPath)
      this.o.logger.warn(
        { control: this.controlPath, configured: next.control },
        'SIGHUP: the control socket cannot move while running; restart legiond to apply it',
      );
    if (!isDeepStrictEqual(next.controlRead, this.controlReadConfig))
      this.o.logger.warn(
        { controlRead: this.controlReadConfig?.path ?? null, configured: next.controlRead?.path ?? null },
        'SIGHUP: the read-only control socket cannot change while running; restart legiond to apply it',
      );
    if (next.stateDir !== this.stateDir)
      this.o.logger.warn(
        { stateDir: this.stateDir, configured: next.stateDir },
        'SIGHUP: the state directory cannot move while running; restart legiond to apply it',
      );
    if (!isDeepStrictEqual(next.http, this.config.http))
      this.o.logger.warn(
        { configured: next.http },
        'SIGHUP: the http endpoints cannot change while running; restart legiond to apply it',
      );
    const refused: string[] = [];
    for (const h of [...this.hosts]) {
      const nl = next.legions.find((l) => l.name === h.name);
      if (!nl) {
        this.o.logger.info({ legion: h.name }, 'SIGHUP: legion removed from the configuration; leaving it');
        await this.leaveLegion(h);
      } else if (!(await this.reloadLegion(h, nl))) refused.push(h.name);
    }
    for (const nl of next.legions) {
      if (!this.hosts.some((h) => h.name === nl.name) && !(await this.addLegion(nl))) refused.push(nl.name);
    }
    this.config = next;
    if (refused.length > 0)
      this.o.logger.warn({ refused }, `SIGHUP: configuration reloaded except for ${refused.join(', ')}`);
    else this.o.logger.info('SIGHUP: configuration reloaded');
  }

  /**
   * One legion's part of a reload. A changed transport or codec is swapped under the running
   * core, so identity, epoch and lordship stay and no lord hook runs again; only then is the rest
   * (valor, timing, hooks, lord-only work) applied. Refused, leaving the legion exactly as it was,
   * when the new socket or codec cannot be built, or when the protocol changes: the election
   * state of one protocol means nothing to the other's core.
   */
  private async reloadLegion(h: LegionHost, nl: LegionConfig): Promise<boolean> {
    const log = this.o.logger;
    if (nl.protocol !== h.cfg.protocol) {
      log.error(
        { legion: h.name, protocol: h.cfg.protocol, configured: nl.protocol },
        `SIGHUP: legion ${h.name}: protocol changed from ${h.cfg.protocol} to ${nl.protocol}; ` +
          'a running legion cannot change its protocol (its election state does not carry over): ' +
          'restart legiond to apply it; keeping the old configuration for this legion',
      );
      return false;
    }
    if (nl.backend !== h.cfg.backend || !isDeepStrictEqual(nl.engine, h.cfg.engine)) {
      log.error(
        { legion: h.name, backend: h.cfg.backend, configured: nl.backend },
        `SIGHUP: legion ${h.name}: the backend or its engine settings changed; restart legiond to apply ` +
          'them; keeping the old configuration for this legion',
      );
      return false;
    }
    const socket = !isDeepStrictEqual(socketKey(nl), socketKey(h.cfg));
    const codec = !isDeepStrictEqual(codecKey(nl), codecKey(h.cfg));
    if (socket || codec) {
      const changed = [...(socket ? ['socket'] : []), ...(codec ? ['codec'] : [])];
      log.info({ legion: h.name, changed }, 'SIGHUP: transport changed; reopening with the same UUID');
      try {
        await h.reopenTransport(nl, { socket, codec });
      } catch (e) {
        log.error(
          { legion: h.name, err: e, code: (e as { code?: string }).code },
          `SIGHUP: legion ${h.name}: ${(e as Error).message}; keeping the old transport and configuration`,
        );
        return false;
      }
      log.info(
        { legion: h.name, changed, bind: `${nl.bind.host}:${nl.bind.port}` },
        'SIGHUP: transport reopened; identity, epoch and lordship kept',
      );
    }
    h.reconfigure(nl);
    return true;
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
    this.o.observer?.stopping();
    // let a start under way finish taking (or giving back) its resources first
    await this.starting?.catch(() => undefined);
    const deadline = this.o.shutdownDeadlineMs ?? 30_000;
    const all = Promise.all(this.hosts.map((h) => h.leave())).then(() => undefined);
    const timer = new Promise<void>((r) =>
      setTimeout(() => {
        this.o.logger.error({ deadlineMs: deadline }, 'shutdown deadline passed; exiting anyway');
        r();
      }, deadline).unref(),
    );
    await Promise.race([all, timer]);
    await this.control?.close();
    this.control = null;
    await this.controlRead?.close();
    this.controlRead = null;
    await this.o.http?.close().catch(() => undefined);
    await this.lock?.release();
    this.lock = null;
    await this.o.observer?.close().catch(() => undefined);
  }
}
