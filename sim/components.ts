/**
 * Connected components of the live network, in two strengths:
 * - `weak`: joined by a link open in at least one direction. Two lords in one weak component can
 *   hear of each other somehow, so the checker counts them as an overlap (the conservative choice).
 * - `mutual`: joined by links open both ways. Only such a group can hold an election, so lordless
 *   time is measured on these.
 */
import type { Network } from './network.js';

export interface Components {
  /** component id per slot, -1 for slots not in `members` */
  of: Int32Array;
  count: number;
}

export function components(members: number[], net: Network, mode: 'weak' | 'mutual'): Components {
  const of = new Int32Array(net.size).fill(-1);
  if (!net.partitioned) {
    for (const s of members) of[s] = 0;
    return { of, count: members.length > 0 ? 1 : 0 };
  }
  const parent = new Int32Array(net.size);
  for (let i = 0; i < parent.length; i++) parent[i] = i;
  const find = (x: number): number => {
    let r = x;
    while (parent[r] !== r) r = parent[r]!;
    while (parent[x] !== r) {
      const next = parent[x]!;
      parent[x] = r;
      x = next;
    }
    return r;
  };
  for (let i = 0; i < members.length; i++) {
    const a = members[i]!;
    for (let j = i + 1; j < members.length; j++) {
      const b = members[j]!;
      const ab = !net.isBlocked(a, b);
      const ba = !net.isBlocked(b, a);
      if (mode === 'weak' ? ab || ba : ab && ba) {
        const ra = find(a);
        const rb = find(b);
        if (ra !== rb) parent[ra] = rb;
      }
    }
  }
  const ids = new Map<number, number>();
  for (const s of members) {
    const r = find(s);
    let id = ids.get(r);
    if (id === undefined) {
      id = ids.size;
      ids.set(r, id);
    }
    of[s] = id;
  }
  return { of, count: ids.size };
}
