/** Field readers shared by the scenario top level and its timeline actions. */
import { HOOK_EVENTS } from '../src/legion/types.js';
import {
  type CronSpec,
  type DaemonSpec,
  DEFAULT_CRON,
  DEFAULT_DAEMON,
  type HookSpec,
  type LinkParams,
} from './scenario-types.js';
import type { Reader } from './yaml-reader.js';

export { HOOK_EVENTS };

export function readLink(r: Reader, base: LinkParams, partial: boolean): Partial<LinkParams> {
  if (!r.present) return partial ? {} : { ...base };
  r.object(['loss', 'delay', 'jitter', 'dup']);
  const out: Partial<LinkParams> = partial ? {} : { ...base };
  if (r.at('loss').present) out.loss = r.at('loss').number(0, 1);
  if (r.at('delay').present) out.delayMs = r.at('delay').duration();
  if (r.at('jitter').present) out.jitterMs = r.at('jitter').duration();
  if (r.at('dup').present) out.dup = r.at('dup').number(0, 1);
  return out;
}

export function readHookPatch(r: Reader, extra: readonly string[] = []): Partial<HookSpec> {
  if (!r.present) return {};
  r.object(['events', 'duration', 'timeout', 'hold_timeout', 'fail', 'fail_stepdown', ...extra]);
  const out: Partial<HookSpec> = {};
  if (r.at('events').present) {
    out.events = r
      .at('events')
      .list()
      .map((e) => e.oneOf(HOOK_EVENTS));
  }
  if (r.at('duration').present) out.durationMs = r.at('duration').duration();
  if (r.at('timeout').present) out.timeoutMs = r.at('timeout').duration();
  if (r.at('hold_timeout').present) out.holdTimeoutMs = r.at('hold_timeout').duration();
  if (r.at('fail').present) {
    out.fail = r
      .at('fail')
      .list()
      .map((e) => e.oneOf(HOOK_EVENTS));
  }
  if (r.at('fail_stepdown').present) out.failStepdownMs = r.at('fail_stepdown').duration();
  return out;
}

/** `daemons:` (top level or per node): the attached daemons and their processes' behaviour */
export function readDaemons(r: Reader): DaemonSpec[] {
  return r.list().map((e) => {
    e.object(['grace', 'restart_backoff', 'term', 'exit_after']);
    const opt = (k: string, d: number) => (e.at(k).present ? e.at(k).duration() : d);
    return {
      graceMs: opt('grace', DEFAULT_DAEMON.graceMs),
      backoffMs: opt('restart_backoff', DEFAULT_DAEMON.backoffMs),
      termMs: opt('term', DEFAULT_DAEMON.termMs),
      exitAfterMs: e.at('exit_after').present ? e.at('exit_after').duration() : null,
    };
  });
}

/** `cron:` (top level or per node): the entries and how long their runs take */
export function readCron(r: Reader): CronSpec[] {
  return r.list().map((e) => {
    e.object(['schedule', 'duration', 'term', 'timeout']);
    const opt = (k: string, d: number) => (e.at(k).present ? e.at(k).duration() : d);
    return {
      schedule: e.at('schedule').string(),
      durationMs: opt('duration', DEFAULT_CRON.durationMs),
      termMs: opt('term', DEFAULT_CRON.termMs),
      timeoutMs: e.at('timeout').present ? e.at('timeout').duration() : DEFAULT_CRON.timeoutMs,
    };
  });
}
