/** What the event queue holds. Events that belong to one node incarnation carry `inc`, so a crash voids them. */
import type { LegiondError } from '../src/errors.js';
import type { Decoded } from '../src/protocol/native.js';
import type { Action } from './scenario-types.js';

/** A timer of a node's runner (sim/process.ts); clearing it sets `live` to false. */
export interface TimerEvent {
  readonly k: 'timer';
  readonly slot: number;
  readonly inc: number;
  readonly fn: () => void;
  live: boolean;
}

/**
 * A timer of a host rather than of its legiond (sim/spawner.ts: virtual processes and their
 * guards): it runs while legiond is paused or gone, and waits while the whole host is frozen.
 */
export interface HostTimerEvent {
  readonly k: 'host';
  readonly slot: number;
  readonly fn: () => void;
  live: boolean;
}

export type SimEvent =
  | TimerEvent
  | HostTimerEvent
  /**
   * One broadcast's copies in flight, in arrival order: one queue entry per broadcast rather than
   * per copy keeps the queue small when a thousand nodes announce at once. `opened` is the
   * broadcast authenticated and parsed, once for all its receivers (native protocol, protocol.ts).
   */
  | {
      k: 'fanout';
      from: number;
      bytes: Uint8Array;
      at: Float64Array;
      to: Int32Array;
      next: number;
      opened: Decoded | LegiondError | null;
    }
  /** `followUp` for the scheduled half of a fault (restart after a crash, resume after a pause) */
  | { k: 'action'; action: Action; followUp: boolean }
  | { k: 'end' };
