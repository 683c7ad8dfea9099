/** Field readers shared by the scenario top level and its timeline actions. */
import { HOOK_EVENTS } from '../src/legion/types.js';
import type { HookSpec, LinkParams } from './scenario-types.js';
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
  r.object(['duration', 'timeout', 'hold_timeout', 'fail', 'fail_stepdown', ...extra]);
  const out: Partial<HookSpec> = {};
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
