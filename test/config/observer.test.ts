import { describe, expect, it } from 'vitest';
import { configFromFlags } from '../../src/config/flags.js';
import { parseConfigText } from '../../src/config/index.js';
import { isLegiondError } from '../../src/errors.js';

const legion = (extra: string) => `legions:
  - name: web
    bind: 127.0.0.1:4242
    peers: ["127.0.0.1:4243"]
    insecure: true
${extra}`;

function errorOf(text: string): string {
  try {
    parseConfigText(text, 'config/obs.yaml', { hostname: () => 'h' });
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

describe('role: observer', () => {
  it('is a member by default, with valor 1', () => {
    const l = parseConfigText(legion(''), 'x.yaml', { hostname: () => 'h' }).legions[0]!;
    expect(l).toMatchObject({ observer: false, valor: 1n });
  });

  it('an observer has valor 0', () => {
    const l = parseConfigText(legion('    role: observer\n'), 'x.yaml', { hostname: () => 'h' }).legions[0]!;
    expect(l).toMatchObject({ observer: true, valor: 0n });
  });

  it('refuses what an observer can never use, naming the key and the file', () => {
    expect(errorOf(legion('    role: observer\n    valor: 5\n'))).toMatch(
      /config\/obs\.yaml: legions\[0\]\.valor: an observer never stands/,
    );
    expect(errorOf(legion('    role: observer\n    daemons: [{command: [sleep, "9"]}]\n'))).toMatch(
      /legions\[0\]\.daemons: an observer never runs lord-only work/,
    );
    expect(errorOf(legion('    role: spectator\n'))).toMatch(/legions\[0\]\.role/);
  });

  it('--observer on the command line', () => {
    const c = configFromFlags(
      { legion: 'web', bind: '127.0.0.1:4242', peer: ['127.0.0.1:4243'], insecure: true, observer: true },
      { hostname: () => 'h' },
    );
    expect(c.legions[0]).toMatchObject({ observer: true, valor: 0n });
  });
});
