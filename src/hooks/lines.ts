/** Splits a child's output into log lines, bounded so a chatty command cannot flood the log. */

/** Shared by a command's stdout and stderr: the bound is on the run, not on each stream. */
export class LineBudget {
  dropped = 0;
  constructor(public remaining: number) {}
}

export class LineSink {
  private pending = '';

  constructor(
    /** a longer line is cut and marked */
    private readonly maxLineBytes: number,
    /** once spent, further lines are dropped and counted */
    private readonly budget: LineBudget,
    private readonly emit: (line: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    this.pending += chunk.toString();
    let nl = this.pending.indexOf('\n');
    while (nl >= 0) {
      this.line(this.pending.slice(0, nl));
      this.pending = this.pending.slice(nl + 1);
      nl = this.pending.indexOf('\n');
    }
    // A line that never ends must not grow without bound either.
    if (this.pending.length > this.maxLineBytes) {
      this.line(this.pending);
      this.pending = '';
    }
  }

  /** Flushes a final unterminated line. */
  end(): void {
    if (this.pending !== '') this.line(this.pending);
    this.pending = '';
  }

  private line(text: string): void {
    const line = text.endsWith('\r') ? text.slice(0, -1) : text;
    if (this.budget.remaining <= 0) {
      this.budget.dropped++;
      return;
    }
    this.budget.remaining--;
    this.emit(
      Buffer.byteLength(line) > this.maxLineBytes
        ? `${Buffer.from(line).subarray(0, this.maxLineBytes).toString()}… [truncated]`
        : line,
    );
  }
}
