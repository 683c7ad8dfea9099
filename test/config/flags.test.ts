import { describe, expect, it } from 'vitest';
import { configFromFlags, type FlagOptions } from '../../src/config/index.js';
import { isLegiondError } from '../../src/errors.js';

const BASE: FlagOptions = { legion: 'web', bind: '127.0.0.1:4242', peer: ['127.0.0.1:4243'], insecure: true };

function flagError(flags: FlagOptions): string {
  try {
    configFromFlags({ ...BASE, ...flags }, { hostname: () => 'h' });
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

describe('configFromFlags', () => {
  it('builds the same typed config as a file would', () => {
    const c = configFromFlags(
      {
        ...BASE,
        valor: '42',
        quorum: '2',
        interval: '100ms',
        tolerance: '500',
        jitter: '0.1',
        multicast: '239.1.2.3:5000',
        multicastTtl: '3',
        hook: ['lord=echo up', 'lord=echo again', 'unlord=echo down'],
        lordHookFailureStepdown: '30s',
        stateDir: '/var/lib/legiond',
      },
      { hostname: () => 'host-b' },
    );
    const l = c.legions[0]!;
    expect(c.stateDir).toBe('/var/lib/legiond');
    expect(l).toMatchObject({
      name: 'web',
      nodeName: 'host-b',
      valor: 42n,
      quorum: 2,
      intervalMs: 100,
      toleranceMs: 500,
      jitter: 0.1,
      multicast: { group: { host: '239.1.2.3', port: 5000 }, ttl: 3, loop: true, interface: null },
      lordHookFailure: { stepdownMs: 30_000 },
    });
    expect(l.hooks.lord).toEqual(['echo up', 'echo again']);
    expect(l.hooks.unlord).toEqual(['echo down']);
  });

  it.each<[string, FlagOptions, RegExp]>([
    ['bad valor', { valor: 'lots' }, /^command line: --valor: expected a non-negative integer/],
    ['bad duration', { interval: 'soon' }, /command line: --interval: expected a duration/],
    [
      'tolerance not above interval',
      { interval: '2s', tolerance: '1s' },
      /--tolerance: must exceed interval/,
    ],
    ['bad peer', { peer: ['nope'] }, /--peer: .*HOST:PORT/],
    [
      'bad multicast ttl',
      { multicast: '239.1.1.1:1', multicastTtl: '300' },
      /--multicast-ttl: expected an integer/,
    ],
    ['no legion name', { legion: undefined }, /--legion: required/],
    ['secret and insecure', { secretFile: '/x' }, /--insecure: set either secret_file or insecure/],
    ['bad hook form', { hook: ['echo hi'] }, /--hook: "echo hi": expected EVENT=COMMAND/],
    [
      'unknown hook event',
      { hook: ['elected=echo hi'] },
      /--hook: "elected=echo hi": unknown event "elected"/,
    ],
    ['bad log level', { logLevel: 'loud' }, /--log-level: expected one of/],
    ['bad quorum', { quorum: 'two' }, /--quorum: expected an integer/],
  ])('%s names the flag', (_name, flags, expected) => {
    expect(flagError(flags)).toMatch(expected);
  });
});
