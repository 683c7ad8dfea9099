/**
 * The clocks and timers of src/hooks, so the simulator can drive the production hook code on
 * virtual time (pino's model: the clock is a parameter). The daemon uses `systemTimers`.
 * Real processes keep their own timers (kill grace, group polling, output drain in process.ts;
 * the bash guard): those belong to the system spawner, not to this interface.
 */

/** whatever the implementation's setTimeout returns; only handed back to its clearTimeout */
export type TimerHandle = unknown;

export interface HookTimers {
  /** monotonic ms: backoffs, run durations */
  now(): number;
  /** calls `fn` once, `ms` from now on the monotonic clock; never synchronously inside the call */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  /** a cleared timer never fires */
  clearTimeout(handle: TimerHandle): void;
  /** epoch ms: only what cron patterns are matched against */
  wallNow(): number;
}

export const systemTimers: HookTimers = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
  wallNow: () => Date.now(),
};

/**
 * HookTimers over a clock with one-shot timers of the shape src/daemon/scheduler.ts defines
 * (structural, so src/hooks does not depend on src/daemon): the simulator's NodeScheduler fits.
 */
export function timersFrom<H>(s: {
  mono(): number;
  wall(): number;
  setTimer(fn: () => void, ms: number): H;
  clearTimer(handle: H): void;
}): HookTimers {
  return {
    now: () => s.mono(),
    setTimeout: (fn, ms) => s.setTimer(fn, ms),
    clearTimeout: (handle) => s.clearTimer(handle as H),
    wallNow: () => s.wall(),
  };
}
