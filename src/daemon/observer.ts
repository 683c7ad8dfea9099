import type { LegionConfig } from '../config/types.js';
import type { LegionView } from '../legion/types.js';

/** What an observer of the daemon needs of one running legion (a LegionHost is one). */
export interface ObservedLegion {
  readonly name: string;
  readonly cfg: Pick<LegionConfig, 'intervalMs'>;
  view(): LegionView;
}

/**
 * The daemon's lifecycle as an observer sees it (the sd_notify speaker is one). Every method is
 * called synchronously from the daemon and must not throw into it.
 */
export interface DaemonObserver<L extends ObservedLegion = ObservedLegion> {
  /** a legion runs: at start, or added by a reload */
  legionRunning(legion: L): void;
  /** a legion begins to leave (legionctl leave, removed by a reload); its runner winds down */
  legionLeaving(legion: L): void;
  /** after every step of a legion's core: called from the runner's own loop */
  stepped(legion: L): void;
  /** SIGHUP: a reload begins (only when there is a file to reload) */
  reloading(): void;
  /** the reload is over, applied or refused */
  reloaded(): void;
  /** a clean shutdown begins */
  stopping(): void;
  /** the daemon is about to exit: flush what is pending */
  close(): Promise<void>;
}

/** several observers told in turn (sd_notify and the HTTP endpoints, say) */
export function allObservers<L extends ObservedLegion>(list: DaemonObserver<L>[]): DaemonObserver<L> {
  return {
    legionRunning: (l) => {
      for (const o of list) o.legionRunning(l);
    },
    legionLeaving: (l) => {
      for (const o of list) o.legionLeaving(l);
    },
    stepped: (l) => {
      for (const o of list) o.stepped(l);
    },
    reloading: () => {
      for (const o of list) o.reloading();
    },
    reloaded: () => {
      for (const o of list) o.reloaded();
    },
    stopping: () => {
      for (const o of list) o.stopping();
    },
    close: async () => {
      await Promise.all(list.map((o) => o.close().catch(() => undefined)));
    },
  };
}
