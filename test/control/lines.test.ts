import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type LineItem, LineReader } from '../../src/control/lines.js';

const enc = (s: string) => new TextEncoder().encode(s);

function feed(reader: LineReader, bytes: Uint8Array, cuts: number[]): LineItem[] {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: LineItem[] = [];
  let prev = 0;
  for (const p of [...points, bytes.length]) {
    out.push(...reader.push(bytes.subarray(prev, p)));
    prev = p;
  }
  return out;
}

describe('LineReader', () => {
  it('yields the same lines however the stream is cut, multibyte characters included', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.string({ unit: 'grapheme' }).map((s) => s.replace(/[\n\r]/g, '')),
          { maxLength: 8 },
        ),
        fc.array(fc.nat()),
        (lines, cuts) => {
          const bytes = enc(lines.map((l) => `${l}\n`).join(''));
          const got = feed(new LineReader(1 << 20), bytes, cuts);
          expect(got).toEqual(lines.map((line) => ({ type: 'line', line })));
        },
      ),
    );
  });

  it('byte by byte: strips a trailing CR and keeps an incomplete line pending', () => {
    const r = new LineReader(100);
    const out: LineItem[] = [];
    for (const b of enc('é1\r\nab')) out.push(...r.push(Uint8Array.of(b)));
    expect(out).toEqual([{ type: 'line', line: 'é1' }]);
    expect(r.push(enc('c\n'))).toEqual([{ type: 'line', line: 'abc' }]);
  });

  it('reports an over-long line once, drops it to its newline, then resumes', () => {
    const r = new LineReader(10);
    const items = feed(r, enc(`${'x'.repeat(25)}\nok\n${'y'.repeat(10)}\n`), [3, 12, 20]);
    expect(items).toEqual([
      { type: 'too-long', bytes: 12 },
      { type: 'line', line: 'ok' },
      { type: 'line', line: 'y'.repeat(10) },
    ]);
  });
});
