import type { LegionConfig } from '../config/types.js';
import { CronRunner, DaemonSupervisor, HookRunner, ValorChecks, viewContext } from '../hooks/index.js';
import type { LegionEvent, LegionView } from '../legion/types.js';
import type { Logger } from './logger.js';

export interface LordWorkOptions {
  config: LegionConfig;
  logger: Logger;
  view: () => LegionView;
  onLordHookFailed: (stepdownMs: number) => void;
  onEffectiveValor: (valor: bigint) => void;
}

/**
 * Everything a legion runs on this host because of its events: hooks (serial, in event order),
 * cron entries and attached daemons that live only while this node is lord, and valor checks.
 */
export class LordWork {
  private readonly hooks: HookRunner;
  private readonly cron: CronRunner;
  private readonly daemons: DaemonSupervisor;
  private readonly checks: ValorChecks;
  private cfg: LegionConfig;
  private lord = false;
  private base: bigint;

  constructor(o: LordWorkOptions) {
    this.cfg = o.config;
    this.base = o.config.valor;
    const legion = o.config.name;
    this.hooks = new HookRunner({
      legion,
      timeoutMs: o.config.hookTimeoutMs,
      logger: o.logger,
      onResult: (r) => {
        const failure = this.cfg.lordHookFailure;
        if (r.event === 'lord' && !r.ok && failure && this.lord) {
          o.logger.warn({ stepdownMs: failure.stepdownMs }, 'lord hook failed; stepping down for a while');
          o.onLordHookFailed(failure.stepdownMs);
        }
      },
    });
    const context = () => viewContext(o.view(), 'cron');
    this.cron = new CronRunner({
      legion,
      entries: o.config.cron,
      isLord: () => this.lord,
      context,
      logger: o.logger,
    });
    this.daemons = new DaemonSupervisor({
      legion,
      entries: o.config.daemons,
      context: () => viewContext(o.view(), 'daemon'),
      logger: o.logger,
    });
    this.checks = new ValorChecks({
      legion,
      entries: o.config.checks,
      logger: o.logger,
      context: () => viewContext(o.view(), 'check'),
      onChange: () => o.onEffectiveValor(this.checks.effective(this.base)),
    });
  }

  effectiveValor(base: bigint): bigint {
    this.base = base;
    return this.checks.effective(base);
  }

  checkStates() {
    return this.checks.states().map((c) => ({
      command: typeof c.command === 'string' ? c.command : c.command.join(' '),
      state: c.state,
      consecutiveOk: c.consecutiveOk,
      consecutiveFail: c.consecutiveFail,
      lastExitCode: c.lastExitCode,
    }));
  }

  startChecks(): void {
    this.checks.start();
    this.cron.start();
  }

  onEvent(ev: LegionEvent): void {
    if (ev.type === 'unlord' || ev.type === 'death') {
      // the workload stops before the unlord hooks run (which may, say, drop the VIP)
      this.lord = false;
      void this.daemons.stop();
    }
    this.hooks.enqueue(ev, this.cfg.hooks[ev.type]);
    if (ev.type === 'lord') {
      this.lord = true;
      // attached daemons start only once the lord hooks (say, taking the VIP) have finished
      void this.hooks.drained().then(() => {
        if (this.lord && this.cfg.daemons.length > 0) this.daemons.start();
      });
    }
  }

  drained(): Promise<void> {
    return this.hooks.drained();
  }

  reconfigure(cfg: LegionConfig): void {
    this.cfg = cfg;
    this.hooks.setTimeoutMs(cfg.hookTimeoutMs);
  }

  /** before a departure: the lord-only workload ends first */
  async stopLordWork(): Promise<void> {
    await Promise.all([this.cron.stop(), this.daemons.stop(), this.checks.stop()]);
  }

  async close(): Promise<void> {
    await this.stopLordWork();
    await this.hooks.close();
  }
}
