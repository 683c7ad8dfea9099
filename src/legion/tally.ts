/**
 * How many members vote for each candidate, and the largest of those counts. Until a quorum
 * forms, a legion starting at once has about as many candidates as members, and asking "does any
 * candidate have Q votes?" by scanning them was O(N) at every step of the start-up storm.
 * Counts move by one at a time, so a histogram of counts keeps the maximum in O(1).
 */
export class VoteTally {
  private readonly counts = new Map<string, number>();
  /** `withCount[k]`: how many candidates hold exactly k votes (k >= 1) */
  private readonly withCount: number[] = [0];
  /** the largest count, 0 when nobody votes */
  max = 0;

  get(vote: string): number {
    return this.counts.get(vote) ?? 0;
  }

  get size(): number {
    return this.counts.size;
  }

  add(vote: string): void {
    const n = (this.counts.get(vote) ?? 0) + 1;
    this.counts.set(vote, n);
    if (n > 1) this.withCount[n - 1]!--;
    this.withCount[n] = (this.withCount[n] ?? 0) + 1;
    if (n > this.max) this.max = n;
  }

  remove(vote: string): void {
    const n = this.counts.get(vote);
    if (n === undefined) return;
    if (n > 1) {
      this.counts.set(vote, n - 1);
      this.withCount[n - 1]!++;
    } else {
      this.counts.delete(vote);
    }
    this.withCount[n]!--;
    // counts drop by one, so when the last holder of the maximum drops it sits one below
    if (n === this.max && this.withCount[n] === 0) this.max = n - 1;
  }

  entries(): IterableIterator<[string, number]> {
    return this.counts.entries();
  }
}
