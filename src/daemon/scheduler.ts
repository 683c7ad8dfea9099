/**
 * Time, randomness and timers as the legion runner sees them (pino's model: the clock is a
 * parameter). The daemon runs on `systemScheduler`; the simulator and the tests hand the same
 * runner a virtual one (sim/virtual.ts, sim/process.ts), so the shell they drive is the daemon's.
 */

/** Time and randomness, without timers: what the core's `Ctx` and the codecs read. */
export interface Clock {
  /** monotonic ms: liveness and timers */
  mono(): number;
  /** wall ms: only the replay window and uWSGI's `unix` field */
  wall(): number;
  /** uniform in [0, 1) */
  rand(): number;
}

/**
 * A clock with one-shot timers. `H` is the implementation's handle; the runner only passes it
 * back to `clearTimer`. A timer never fires synchronously inside `setTimer`, and a cleared
 * timer never fires.
 */
export interface Scheduler<H = unknown> extends Clock {
  /** calls `fn` once, `ms` milliseconds (on the monotonic clock) from now */
  setTimer(fn: () => void, ms: number): H;
  clearTimer(handle: H): void;
}

export const systemClock: Clock = {
  mono: () => performance.now(),
  wall: () => Date.now(),
  rand: () => Math.random(),
};

export const systemScheduler: Scheduler<NodeJS.Timeout> = {
  ...systemClock,
  setTimer: (fn, ms) => setTimeout(fn, ms),
  clearTimer: (handle) => clearTimeout(handle),
};

/** The system's timers on the given clock (a test's or a daemon's own `clock` option). */
export function withSystemTimers(clock: Clock): Scheduler<NodeJS.Timeout> {
  return {
    mono: () => clock.mono(),
    wall: () => clock.wall(),
    rand: () => clock.rand(),
    setTimer: systemScheduler.setTimer,
    clearTimer: systemScheduler.clearTimer,
  };
}
