import { describe, expect, it } from 'vitest';
import { LineBudget, LineSink } from '../../src/hooks/lines.js';

function sink(maxLineBytes = 64, budget = 100) {
  const lines: string[] = [];
  const b = new LineBudget(budget);
  return { lines, b, s: new LineSink(maxLineBytes, b, (l) => lines.push(l)) };
}

describe('hook output lines', () => {
  it('keeps a multi-byte character whole when a chunk boundary splits it', () => {
    const { lines, s } = sink();
    const bytes = Buffer.from('grüße €\n');
    // feed byte by byte: every character of two or three bytes is split at least once
    for (let i = 0; i < bytes.length; i++) s.push(bytes.subarray(i, i + 1));
    s.end();
    expect(lines).toEqual(['grüße €']);
  });

  it('cuts an overlong line on a character boundary and marks it', () => {
    const { lines, s } = sink(5);
    s.push(Buffer.from('ab€cd\n'));
    // 'ab€' is 5 bytes; a cut at 4 would split the euro sign
    expect(lines).toEqual(['ab€… [truncated]']);
    const t = sink(4);
    t.s.push(Buffer.from('ab€cd\n'));
    expect(t.lines).toEqual(['ab… [truncated]']);
  });

  it('drops and counts lines past the budget', () => {
    const { lines, b, s } = sink(64, 2);
    s.push('a\nb\nc\nd\n');
    expect(lines).toEqual(['a', 'b']);
    expect(b.dropped).toBe(2);
  });
});
