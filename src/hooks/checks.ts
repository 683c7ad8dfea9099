/**
 * Valor checks: commands run periodically; while one is failing the node's valor is lowered by
 * its weight, so a sick lord yields to a healthy peer. rise/fall counts keep one flaky run from
 * moving the title.
 */
import { childEnv } from './env.js';
import { outcomeOk, type RunningCommand } from './process.js';
import { type Spawner, systemSpawner } from './spawner.js';
import { type HookTimers, systemTimers, type TimerHandle } from './timers.js';
import { commandText, type HookCommand, type HookContext, type HookLogger } from './types.js';

export interface CheckEntryInit {
  command: HookCommand;
  intervalMs: number;
  timeoutMs: number;
  weight: bigint;
  rise: number;
  fall: number;
}

export interface CheckState {
  command: HookCommand;
  state: 'ok' | 'failing';
  consecutiveOk: number;
  consecutiveFail: number;
  lastExitCode: number | null;
}

export interface ValorChecksInit {
  legion: string;
  entries: readonly CheckEntryInit[];
  logger: HookLogger;
  /** environment and stdin for each run; default: LEGION_NAME and LEGION_EVENT=check only */
  context?: () => HookContext;
  /** the total weight subtracted changed, so the effective valor did; call effective(base) */
  onChange?: (penalty: bigint) => void;
  killGraceMs?: number;
  baseEnv?: NodeJS.ProcessEnv;
  /** default real processes */
  spawner?: Spawner;
  /** the intervals between runs; default the system's */
  timers?: HookTimers;
}

interface Slot {
  entry: CheckEntryInit;
  state: CheckState;
  timer: TimerHandle | null;
  run: RunningCommand | null;
}

export class ValorChecks {
  private readonly slots: Slot[];
  private started = false;
  /** a run killed by stop() says nothing about health; its result is not counted */
  private stopping = false;
  private readonly timers: HookTimers;

  constructor(private readonly init: ValorChecksInit) {
    this.timers = init.timers ?? systemTimers;
    this.slots = init.entries.map((entry) => ({
      entry,
      state: {
        command: entry.command,
        state: 'ok',
        consecutiveOk: 0,
        consecutiveFail: 0,
        lastExitCode: null,
      },
      timer: null,
      run: null,
    }));
  }

  /** Runs every check now, then each `intervalMs` after its previous run finished. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.stopping = false;
    for (let i = 0; i < this.slots.length; i++) this.schedule(i, 0);
  }

  async stop(): Promise<void> {
    this.started = false;
    this.stopping = true;
    await Promise.all(
      this.slots.map(async (s) => {
        if (s.timer !== null) this.timers.clearTimeout(s.timer);
        s.timer = null;
        await s.run?.terminate();
      }),
    );
  }

  /** Sum of the weights of failing checks. */
  penalty(): bigint {
    return this.slots.reduce((sum, s) => (s.state.state === 'failing' ? sum + s.entry.weight : sum), 0n);
  }

  states(): CheckState[] {
    return this.slots.map((s) => ({ ...s.state }));
  }

  /** Runs check `index` once and applies the result; resolves when it has been counted. */
  async runOnce(index: number): Promise<void> {
    const s = this.slots[index];
    if (!s || s.run) return;
    const fields = { legion: this.init.legion, check: commandText(s.entry.command) };
    const ctx = this.init.context?.() ?? { env: { LEGION_NAME: this.init.legion }, stdin: '' };
    s.run = (this.init.spawner ?? systemSpawner).run(s.entry.command, {
      env: childEnv(this.init.baseEnv ?? process.env, { ...ctx, env: { ...ctx.env, LEGION_EVENT: 'check' } }),
      stdin: ctx.stdin,
      timeoutMs: s.entry.timeoutMs,
      killGraceMs: this.init.killGraceMs ?? 1000,
      logger: this.init.logger,
      logFields: fields,
      outputLevel: 'debug',
    });
    const outcome = await s.run.done;
    s.run = null;
    if (this.stopping) return;
    const before = this.penalty();
    const st = s.state;
    st.lastExitCode = outcome.exitCode;
    if (outcomeOk(outcome)) {
      st.consecutiveOk++;
      st.consecutiveFail = 0;
      if (st.state === 'failing' && st.consecutiveOk >= s.entry.rise) {
        st.state = 'ok';
        this.init.logger.info({ ...fields, weight: s.entry.weight.toString() }, 'valor check recovered');
      }
    } else {
      st.consecutiveFail++;
      st.consecutiveOk = 0;
      this.init.logger.debug(
        { ...fields, exitCode: outcome.exitCode, timedOut: outcome.timedOut },
        'valor check failed',
      );
      if (st.state === 'ok' && st.consecutiveFail >= s.entry.fall) {
        st.state = 'failing';
        this.init.logger.warn(
          {
            ...fields,
            weight: s.entry.weight.toString(),
            exitCode: outcome.exitCode,
            timedOut: outcome.timedOut,
          },
          'valor check failing; lowering valor',
        );
      }
    }
    const after = this.penalty();
    if (after !== before) this.init.onChange?.(after);
  }

  private schedule(index: number, delayMs: number): void {
    const s = this.slots[index];
    if (!s || !this.started) return;
    s.timer = this.timers.setTimeout(() => {
      s.timer = null;
      void this.runOnce(index).then(() => this.schedule(index, s.entry.intervalMs));
    }, delayMs);
  }
}
