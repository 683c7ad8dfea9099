/**
 * sim/svg.ts draws through src/timeline/draw.ts, shared with the status page; its pictures must
 * stay byte for byte what they were before the drawing moved (the fixtures were rendered by the
 * simulator's own drawing code, before the move).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runScenario } from '../../sim/run.js';
import { loadScenario, scenarioFromObject } from '../../sim/scenario.js';
import { renderSvg } from '../../sim/svg.js';

const ROOT = join(import.meta.dirname, '..', '..');
const fixture = (name: string) => readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');
const run = (sc: ReturnType<typeof loadScenario>, seed: number) =>
  renderSvg(runScenario(sc, { seed, keepTrace: true, trackViews: true }));

describe('sim timeline pictures are unchanged by the shared drawing module', () => {
  for (const [name, seed] of [
    ['lord-crash', 1],
    ['partition-majority', 3],
    ['bridge', 2],
    ['epoch-reuse-after-pause', 1],
  ] as const) {
    it(`${name}, seed ${seed}`, () => {
      const svg = run(loadScenario(join(ROOT, 'sim', 'scenarios', `${name}.yaml`)), seed);
      expect(svg).toBe(fixture(`${name}-seed${seed}.svg`));
    });
  }

  it('a crash, a restart, a partition and names that need escaping', () => {
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
    expect(run(sc, 4)).toBe(fixture('pic-seed4.svg'));
  });
});
