/** Control commands: valor, scroll, stepdown, hook failures, reloads and shutdown. */

import { U64_MAX } from '../u64.js';
import { beginRelease } from './release.js';
import { log, type Step } from './step.js';
import type { Command } from './types.js';
import { effectiveValor } from './valor.js';

/** Starts draining; a lord hands over through a release so its unlord hooks finish first. */
function drain(st: Step, forMs: number, reason: string): void {
  const { s, now } = st;
  if (!Number.isFinite(forMs) || forMs < 0) {
    log(st, 'warn', 'stepdown ignored: bad duration', { forMs });
    return;
  }
  log(st, 'info', 'stepping down', { forMs, reason, lord: s.lord });
  // The release freezes what peers see before the draining flag would show.
  if (s.lord) beginRelease(st, 'stepdown', reason);
  s.drainingUntilMs = now + forMs;
}

export function applyCommand(st: Step, c: Command): void {
  const { s } = st;
  switch (c.type) {
    case 'set-valor':
      if (c.valor < 0n || c.valor > U64_MAX) {
        log(st, 'warn', 'set-valor ignored: valor out of range', { valor: c.valor.toString() });
        return;
      }
      log(st, 'info', 'valor set', { from: s.baseValor.toString(), to: c.valor.toString() });
      s.baseValor = c.valor;
      applyValor(st);
      return;
    case 'set-penalty':
      if (c.penalty < 0n) return;
      log(st, 'info', 'valor checks penalty', { penalty: c.penalty.toString() });
      s.valorPenalty = c.penalty;
      applyValor(st);
      return;
    case 'set-scroll':
      s.params = { ...s.params, scroll: c.scroll.slice() };
      log(st, 'info', 'scroll set', { bytes: c.scroll.length });
      return;
    case 'stepdown':
      drain(st, c.forMs, 'stepdown');
      return;
    case 'hook-failed':
      drain(st, c.stepdownMs, 'hook-failed');
      return;
    case 'stepdown-cancel':
      s.drainingUntilMs = null;
      log(st, 'info', 'stepdown cancelled');
      return;
    case 'reconfigure': {
      const changed = Object.keys(c.params);
      const nextInterval = c.params.intervalMs;
      s.params = {
        ...s.params,
        ...definedOnly(c.params),
        ...(c.params.scroll ? { scroll: c.params.scroll.slice() } : {}),
      };
      if (c.params.valor !== undefined) {
        s.baseValor = c.params.valor;
        applyValor(st);
      }
      if (nextInterval !== undefined) s.nextAnnounceMs = Math.min(s.nextAnnounceMs, st.now + nextInterval);
      log(st, 'info', 'reconfigured', { changed });
      return;
    }
    case 'shutdown':
      beginRelease(st, 'shutdown', 'shutdown');
      return;
  }
}

/** params are replaced, never edited (the lease cache keys on their identity) */
function applyValor(st: Step): void {
  const { s } = st;
  const valor = effectiveValor(s);
  if (valor !== s.params.valor) s.params = { ...s.params, valor };
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
