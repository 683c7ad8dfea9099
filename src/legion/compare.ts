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
