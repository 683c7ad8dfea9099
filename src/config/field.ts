/** A zod schema from a hand-written parser (values.ts), so messages read the same everywhere. */
import { z } from 'zod';
import { Bad } from './values.js';

export function field<T>(parse: (v: unknown) => T | Bad) {
  return z.unknown().transform((v, ctx): T => {
    const r = parse(v);
    if (r instanceof Bad) {
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    return r;
  });
}
