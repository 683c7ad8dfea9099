import { randomUUID } from 'node:crypto';
import type { LegiondConfig } from '../config/types.js';
import { type ControlServer, startControlServer } from '../control/server.js';
import { DaemonControl } from './control-handler.js';
import { LegionHost } from './legion-host.js';
import type { Logger } from './logger.js';

export interface DaemonOptions {
  config: LegiondConfig;
  logger: Logger;
  /** reload source for SIGHUP; null when the config came from flags */
  reload: (() => Promise<LegiondConfig>) | null;
  /** upper bound on a clean shutdown, whatever the hooks do */
  shutdownDeadlineMs?: number;
}

/**
 * The whole process: one LegionHost per configured legion, the control socket, and the signals.
 * Node UUIDs are drawn here, once per legion per process, and kept across reloads.
 */
export class Daemon {
  private hosts: LegionHost[] = [];
  private control: ControlServer | null = null;
  private readonly uuids = new Map<string, string>();
  private stopping: Promise<void> | null = null;
  private config: LegiondConfig;

  constructor(private readonly o: DaemonOptions) {
    this.config = o.config;
  }

  async start(): Promise<void> {
    for (const lc of this.config.legions) {
      await this.startLegion(lc);
    }
    this.control = await startControlServer({
      path: this.config.control,
      logger: this.o.logger,
      handler: new DaemonControl(
        () => this.hosts,
        (h) => this.leaveLegion(h),
      ),
    });
    this.o.logger.info(
      { control: this.config.control, legions: this.hosts.map((h) => h.name) },
      'legiond running',
    );
  }

  private async startLegion(lc: LegiondConfig['legions'][number]): Promise<void> {
    let uuid = this.uuids.get(lc.name);
    if (!uuid) {
      uuid = randomUUID();
      this.uuids.set(lc.name, uuid);
    }
    if (lc.insecure)
      this.o.logger.warn({ legion: lc.name }, 'insecure: announces are sent and accepted unauthenticated');
    const host = new LegionHost({ config: lc, uuid, logger: this.o.logger, stateDir: this.config.stateDir });
    await host.start();
    this.hosts.push(host);
  }

  private async leaveLegion(h: LegionHost): Promise<void> {
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
    let next: LegiondConfig;
    try {
      next = await this.o.reload();
    } catch (e) {
      this.o.logger.error({ err: e }, 'SIGHUP: new configuration rejected; keeping the old one');
      return;
    }
    const transportKey = (l: LegiondConfig['legions'][number]) =>
      JSON.stringify([
        l.protocol,
        l.bind,
        l.peers,
        l.multicast,
        l.secretFile,
        l.acceptSecretFiles,
        l.insecure,
        l.uwsgi,
      ]);
    for (const h of [...this.hosts]) {
      const nl = next.legions.find((l) => l.name === h.name);
      if (!nl) {
        this.o.logger.info({ legion: h.name }, 'SIGHUP: legion removed from the configuration; leaving it');
        await this.leaveLegion(h);
      } else if (transportKey(nl) !== transportKey(h.cfg)) {
        this.o.logger.info({ legion: h.name }, 'SIGHUP: transport changed; reopening with the same UUID');
        await h.close();
        this.hosts = this.hosts.filter((x) => x !== h);
        await this.startLegion(nl);
      } else {
        h.reconfigure(nl);
      }
    }
    for (const nl of next.legions) {
      if (!this.hosts.some((h) => h.name === nl.name)) await this.startLegion(nl);
    }
    this.config = next;
    this.o.logger.info('SIGHUP: configuration reloaded');
  }

  stop(): Promise<void> {
    this.stopping ??= this.doStop();
    return this.stopping;
  }

  private async doStop(): Promise<void> {
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
  }
}
