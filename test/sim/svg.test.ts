/** The timeline picture: one row per node, lord bands, partitions, legend, escaped text. */
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/run.js';
import { scenarioFromObject } from '../../sim/scenario.js';
import { renderSvg } from '../../sim/svg.js';

describe('renderSvg', () => {
  const sc = scenarioFromObject(
    {
      name: 'pic',
      duration: '20s',
      quorum: 'majority',
      nodes: [
        { name: 'a', valor: 10 },
        { name: 'b<&>', valor: 20 },
        { name: 'c', valor: 30 },
      ],
      timeline: [
        { at: '5s', crash: { node: 'lord', restart_after: '3s' } },
        { at: '12s', partition: { isolate: 'a' } },
        { at: '16s', heal: true },
      ],
    },
    'pic',
  );
  const res = runScenario(sc, { seed: 4, keepTrace: true, trackViews: true });
  const svg = renderSvg(res);

  it('is one well-formed svg document', () => {
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    // every tag is closed in order (a tiny XML balance check)
    const stack: string[] = [];
    for (const m of svg.matchAll(/<(\/?)([a-zA-Z]+)[^>]*?(\/?)>/g)) {
      const [, close, tag, self] = m;
      if (self) continue;
      if (close) expect(stack.pop()).toBe(tag);
      else stack.push(tag!);
    }
    expect(stack).toEqual([]);
  });

  it('labels every node row, escaping names', () => {
    expect(svg).toContain('>a</text>');
    expect(svg).toContain('>b&lt;&amp;&gt;</text>');
    expect(svg).not.toContain('b<&>');
  });

  it('marks each lordship with its epoch, and the restarted identity in the legend', () => {
    const lordEvents = res.trace.filter((r) => r.kind === 'claim' && r.lord);
    for (const c of lordEvents) if (c.kind === 'claim') expect(svg).toContain(`epoch ${c.epoch}</title>`);
    expect(svg).toContain('sees c as lord');
    expect(svg).toContain('sees c.2 as lord');
  });

  it('shades the partition and labels the faults', () => {
    expect(svg).toContain('network partitioned');
    expect(svg).toContain('isolate a');
    expect(svg).toContain('crash c (lord)');
    expect(svg).toContain('heal: every link restored');
  });
});
