/** Candidate order: higher valor wins, ties go to the greater UUID (canonical lowercase text compares as bytes). */
export interface Ranked {
  valor: bigint;
  uuid: string;
}

export function compareCandidates(a: Ranked, b: Ranked): number {
  if (a.valor !== b.valor) return a.valor > b.valor ? 1 : -1;
  if (a.uuid === b.uuid) return 0;
  return a.uuid > b.uuid ? 1 : -1;
}

export interface Claimant extends Ranked {
  epoch: bigint;
}

/**
 * The one rule for "lord in office" among members claiming the title: the highest epoch (the
 * latest lordship), then candidate order. The vote (vote.ts) and the lord hooks are told about
 * (events.ts) both follow it.
 */
export function senior<C extends Claimant>(cur: C | null, c: C): C {
  return cur === null || c.epoch > cur.epoch || (c.epoch === cur.epoch && compareCandidates(c, cur) > 0)
    ? c
    : cur;
}
