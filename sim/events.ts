/** What the event queue holds. Events that belong to one node incarnation carry `inc`, so a crash voids them. */
import type { LegiondError } from '../src/errors.js';
import type { Decoded } from '../src/protocol/native.js';
import type { Announce } from '../src/protocol/types.js';
import type { Action } from './scenario-types.js';

export type SimEvent =
  | { k: 'tick'; slot: number; gen: number }
  /**
   * One broadcast's copies in flight, in arrival order: one queue entry per broadcast rather than
   * per copy keeps the queue small when a thousand nodes announce at once. `opened` is the
   * broadcast authenticated and parsed, once for all its receivers (Simulation.open).
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
  /** a later copy of a repeated announce (death announces) */
  | { k: 'send'; slot: number; inc: number; packet: Announce }
  | { k: 'hook-done'; slot: number; inc: number }
  | { k: 'hold-timeout'; slot: number; inc: number; token: number }
  /** `followUp` for the scheduled half of a fault (restart after a crash, resume after a pause) */
  | { k: 'action'; action: Action; followUp: boolean }
  | { k: 'end' };
