/**
 * What calls a cron entry at its pattern's times, apart from its implementation. The daemon uses
 * croner's own timers (`systemSchedule`); `timerSchedule` computes the same times with croner
 * and arms them on HookTimers, so the simulator's cron runs on virtual time, deterministically.
 */
import { Cron } from 'croner';
import type { HookTimers, TimerHandle } from './timers.js';

export interface ScheduleOptions {
  mode: '5-part' | '6-part' | '5-or-6-parts';
  /** for croner's registry of named jobs and its messages */
  name: string;
}

/** Calls `fire` at each time `pattern` matches until `stop()`. Throws on a bad pattern, as croner does. */
export type CronSchedule = (pattern: string, opts: ScheduleOptions, fire: () => void) => { stop(): void };

export const systemSchedule: CronSchedule = (pattern, opts, fire) => new Cron(pattern, opts, fire);

/** Node's setTimeout fires at once past 2^31-1 ms; a longer wait is armed in steps. */
const MAX_DELAY_MS = 2 ** 31 - 1;

export function timerSchedule(timers: HookTimers): CronSchedule {
  return (pattern, opts, fire) => {
    // no callback: croner arms nothing itself and only computes the times. No name either: the
    // simulator runs many nodes, each with the same legion name, in one process.
    const cron = new Cron(pattern, { mode: opts.mode, paused: true });
    let handle: TimerHandle | null = null;
    let stopped = false;
    // croner matches whole seconds strictly after `from`; a late tick skips what it missed, as
    // croner's own scheduling does
    const arm = (from: number) => {
      handle = null;
      const at = cron.nextRun(new Date(from))?.getTime();
      if (at === undefined || stopped) return;
      const wait = (): void => {
        const now = timers.wallNow();
        // also when the wall clock lags the monotonic one the timers run on: never fire early
        if (now < at) {
          handle = timers.setTimeout(wait, Math.min(at - now, MAX_DELAY_MS));
          return;
        }
        // the next tick is armed first, so a `fire` that throws cannot end the schedule
        arm(Math.max(at, now));
        fire();
      };
      wait();
    };
    arm(timers.wallNow());
    return {
      stop() {
        stopped = true;
        if (handle !== null) timers.clearTimeout(handle);
        handle = null;
      },
    };
  };
}
