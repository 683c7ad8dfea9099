/** Splits a child's output into log lines, bounded so a chatty command cannot flood the log. */
import { StringDecoder } from 'node:string_decoder';

/** Shared by a command's stdout and stderr: the bound is on the run, not on each stream. */
export class LineBudget {
  dropped = 0;
  constructor(public remaining: number) {}
}

export class LineSink {
  private pending = '';
  /** keeps a UTF-8 character split across two chunks whole */
  private readonly decoder = new StringDecoder('utf8');

  constructor(
    /** a longer line is cut and marked */
    private readonly maxLineBytes: number,
    /** once spent, further lines are dropped and counted */
    private readonly budget: LineBudget,
    private readonly emit: (line: string) => void,
  ) {}

  push(chunk: Buffer | string): void {
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
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
    this.pending += this.decoder.end();
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
        ? `${cutAtCharacter(line, this.maxLineBytes)}… [truncated]`
        : line,
    );
  }
}

/** The longest prefix of `line` within `maxBytes` that ends on a whole UTF-8 character. */
function cutAtCharacter(line: string, maxBytes: number): string {
  const bytes = Buffer.from(line);
  let end = maxBytes;
  // step back over continuation bytes (10xxxxxx) so the cut lands before a character's first byte
  while (end > 0 && end < bytes.length && (bytes[end]! & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString();
}
