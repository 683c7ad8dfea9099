/**
 * Splits a byte stream into newline-terminated lines with a hard cap, with no socket and no
 * timer so it can be fed byte by byte in tests (as nats.js does with its parser). Lines are
 * decoded only once complete, so a UTF-8 character split across chunks survives.
 */
export type LineItem = { type: 'line'; line: string } | { type: 'too-long'; bytes: number };

export class LineReader {
  private parts: Uint8Array[] = [];
  private size = 0;
  /** inside a line already reported too long: drop bytes until its newline */
  private discarding = false;
  private dropped = 0;
  private readonly decoder = new TextDecoder();

  constructor(private readonly maxLineBytes: number) {}

  push(chunk: Uint8Array): LineItem[] {
    const out: LineItem[] = [];
    let start = 0;
    while (start < chunk.length) {
      const nl = chunk.indexOf(0x0a, start);
      const end = nl < 0 ? chunk.length : nl;
      this.take(chunk.subarray(start, end), out);
      if (nl < 0) break;
      this.finishLine(out);
      start = nl + 1;
    }
    return out;
  }

  private take(piece: Uint8Array, out: LineItem[]): void {
    if (this.discarding) {
      this.dropped += piece.length;
      return;
    }
    if (this.size + piece.length > this.maxLineBytes) {
      this.discarding = true;
      this.dropped = this.size + piece.length;
      this.parts = [];
      this.size = 0;
      out.push({ type: 'too-long', bytes: this.dropped });
      return;
    }
    if (piece.length > 0) {
      // copy: the caller may reuse its buffer
      this.parts.push(piece.slice());
      this.size += piece.length;
    }
  }

  private finishLine(out: LineItem[]): void {
    if (this.discarding) {
      this.discarding = false;
      this.dropped = 0;
      return;
    }
    const buf = new Uint8Array(this.size);
    let off = 0;
    for (const p of this.parts) {
      buf.set(p, off);
      off += p.length;
    }
    this.parts = [];
    this.size = 0;
    let line = this.decoder.decode(buf);
    if (line.endsWith('\r')) line = line.slice(0, -1);
    out.push({ type: 'line', line });
  }
}
