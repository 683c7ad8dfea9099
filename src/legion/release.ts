/**
 * Voluntary departures. The node drops the title in its own view at once (unlord hooks start),
 * but its announces keep claiming it until the shell reports the hooks done, so peers do not
 * elect a successor while, say, the old lord still holds the virtual IP.
 */
import { buildAnnounce, currentMaterial } from './announce.js';
import { emitEvent } from './events.js';
import { log, type Step } from './step.js';

export const DEATH_ANNOUNCE_REPEAT = 3;

/** Gives up lordship now. An `unlord` event follows only a `lord` event that went out. */
export function stepDown(st: Step, reason: string): void {
  const { s } = st;
  if (!s.lord) return;
  const announced = s.lordEventSent;
  s.lord = false;
  s.lordEventAtMs = null;
  s.lordEventSent = false;
  log(st, 'info', 'stepped down', { reason, epoch: s.lordEpoch.toString(), lordEventSent: announced });
  if (announced) emitEvent(st, 'unlord', { reason });
}

export function beginRelease(st: Step, kind: 'stepdown' | 'shutdown', reason: string): void {
  const { s } = st;
  if (s.phase === 'releasing') {
    // The pending await-hooks still answers; a shutdown then wins over a stepdown.
    if (kind === 'shutdown' && s.release && s.release.kind !== 'shutdown') s.release = { ...s.release, kind };
    return;
  }
  const frozen = currentMaterial(st);
  stepDown(st, reason);
  s.phase = 'releasing';
  s.release = { kind, frozen };
  log(st, 'info', 'releasing', { kind, reason });
  st.effects.push({ type: 'await-hooks' });
}

export function completeRelease(st: Step): void {
  const { s } = st;
  if (s.phase !== 'releasing' || !s.release) {
    log(st, 'debug', 'hooks-drained ignored: nothing to release');
    return;
  }
  const { kind } = s.release;
  s.release = null;
  if (kind === 'stepdown') {
    s.phase = 'running';
    log(st, 'info', 'released lordship', {});
    return;
  }
  die(st);
}

function die(st: Step): void {
  const { s } = st;
  const m = currentMaterial(st);
  s.vote = null;
  const packet = buildAnnounce(st, { ...m, vote: null, flags: { ...m.flags, lord: false, dead: true } });
  st.effects.push({ type: 'send', packet, repeat: DEATH_ANNOUNCE_REPEAT });
  s.phase = 'dead';
  s.lastSent = null;
  s.nextAnnounceMs = Number.POSITIVE_INFINITY;
  log(st, 'info', 'death announced', { repeat: DEATH_ANNOUNCE_REPEAT });
  emitEvent(st, 'death');
  st.effects.push({ type: 'stopped' });
}
