/** What `protocol: uwsgi` demands of a legion's config, in a file and on the command line. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { configFromFlags, type FlagOptions, parseConfigText } from '../../src/config/index.js';
import { isLegiondError } from '../../src/errors.js';

/** a valid uwsgi legion; `over` replaces or (with null) removes keys */
function yaml(over: Record<string, string | null> = {}): string {
  const keys: Record<string, string | null> = {
    name: 'L',
    protocol: 'uwsgi',
    bind: '127.0.0.1:5001',
    peers: '["127.0.0.1:5002"]',
    secret_file: '/etc/legiond/uwsgi.secret',
    valor: '100',
    ...over,
  };
  const body = Object.entries(keys)
    .filter(([, v]) => v !== null)
    .map(([k, v], i) => `${i === 0 ? '  - ' : '    '}${k}: ${v}`)
    .join('\n');
  return `legions:\n${body}\n`;
}

function fileError(text: string, hostname = 'host-a'): string {
  try {
    parseConfigText(text, 'uw.yaml', { hostname: () => hostname });
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

const FLAGS: FlagOptions = {
  legion: 'L',
  protocol: 'uwsgi',
  bind: '127.0.0.1:5001',
  peer: ['127.0.0.1:5002'],
  secretFile: '/etc/legiond/uwsgi.secret',
};

function flagError(flags: FlagOptions): string {
  try {
    configFromFlags(flags, { hostname: () => 'h' });
  } catch (e) {
    expect(isLegiondError(e, 'ERR_CONFIG')).toBe(true);
    return (e as Error).message;
  }
  throw new Error('expected an ERR_CONFIG error');
}

describe('protocol: uwsgi config rules', () => {
  it('accepts a valid legion, valor 65535 included', () => {
    const l = parseConfigText(yaml({ valor: '65535' }), 'uw.yaml', { hostname: () => 'h' }).legions[0]!;
    expect(l.protocol).toBe('uwsgi');
    expect(l.valor).toBe(65535n);
    expect(l.secretFile).toBe('/etc/legiond/uwsgi.secret');
    expect(l.uwsgi).toEqual({ cipher: 'aes-128-cbc', iv: null });
  });

  it('refuses a valor above 65535, naming the key and the 16-bit limit', () => {
    const msg = fileError(yaml({ valor: '65536' }));
    expect(msg).toMatch(/^uw\.yaml: legions\[0\]\.valor: must be at most 65535 with protocol uwsgi/);
    expect(msg).toContain('16 bits');
    expect(msg).toContain('(line 7)');
    expect(flagError({ ...FLAGS, valor: '18446744073709551615' })).toMatch(
      /^command line: --valor: must be at most 65535 with protocol uwsgi: uWSGI keeps a member's valor in 16 bits/,
    );
  });

  it('takes any valor up to 65535 and none above, while native legions take large ones', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.bigInt({ min: 0n, max: 70_000n }), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })),
        (v) => {
          const flags = { ...FLAGS, valor: v.toString() };
          if (v <= 65535n) expect(configFromFlags(flags, { hostname: () => 'h' }).legions[0]!.valor).toBe(v);
          else expect(flagError(flags)).toContain('--valor: must be at most 65535');
          const native = configFromFlags({ ...flags, protocol: 'native' }, { hostname: () => 'h' });
          expect(native.legions[0]!.valor).toBe(v);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('requires secret_file, with a message about uWSGI', () => {
    const msg = fileError(yaml({ secret_file: null }));
    expect(msg).toMatch(/legions\[0\]\.secret_file: required with protocol uwsgi/);
    expect(msg).toContain('uWSGI always encrypts');
    expect(flagError({ ...FLAGS, secretFile: undefined })).toMatch(
      /--secret-file: required with protocol uwsgi/,
    );
  });

  it('refuses insecure, with or without a secret file', () => {
    expect(fileError(yaml({ insecure: 'true' }))).toMatch(
      /legions\[0\]\.insecure: not allowed with protocol uwsgi/,
    );
    const msg = fileError(yaml({ secret_file: null, insecure: 'true' }));
    expect(msg).toMatch(/insecure: not allowed with protocol uwsgi/);
    // one problem, not a second one about the missing secret_file
    expect(msg.split('\n')).toHaveLength(1);
    expect(flagError({ ...FLAGS, secretFile: undefined, insecure: true })).toMatch(
      /^command line: --insecure: not allowed with protocol uwsgi/,
    );
  });

  it('requires a non-empty node name, given or taken from the host name', () => {
    expect(fileError(yaml({ node_name: '""' }))).toMatch(/legions\[0\]\.node_name: must not be empty/);
    expect(fileError(yaml(), '')).toMatch(
      /legions\[0\]\.node_name: the host name "" must not be empty; set node_name/,
    );
    expect(flagError({ ...FLAGS, nodeName: '' })).toMatch(/--node-name: must not be empty/);
    const l = parseConfigText(yaml({ node_name: 'web-1' }), 'uw.yaml').legions[0]!;
    expect(l.nodeName).toBe('web-1');
  });

  it('leaves native legions as they were: insecure allowed, secret_file message unchanged', () => {
    const native = parseConfigText(
      yaml({ protocol: 'native', secret_file: null, insecure: 'true' }),
      'n.yaml',
    );
    expect(native.legions[0]!.insecure).toBe(true);
    expect(fileError(yaml({ protocol: 'native', secret_file: null }))).toMatch(
      /secret_file: required: packets are authenticated with this key/,
    );
  });
});

describe('uwsgi key rotation', () => {
  it('refuses accept_secret_files with protocol uwsgi, naming the key', () => {
    const text =
      'legions:\n  - name: u\n    protocol: uwsgi\n    valor: 5\n    bind: 127.0.0.1:4000\n    peers: ["127.0.0.1:4001"]\n' +
      '    secret_file: /nonexistent/s\n    accept_secret_files: [/nonexistent/old]\n';
    expect(() => parseConfigText(text, 'u.yaml')).toThrow(
      /u\.yaml: legions\[0\]\.accept_secret_files: not supported with protocol uwsgi/,
    );
  });
});

describe('follower events with protocol uwsgi', () => {
  it('refuses lord-changed and scroll-changed hooks: the uWSGI core never emits them', () => {
    for (const e of ['lord-changed', 'scroll-changed']) {
      const msg = fileError(yaml({ hooks: `{ ${e}: "echo hi" }` }));
      expect(msg).toContain(`${e}: not emitted with protocol uwsgi`);
    }
    // empty lists, as a shared config might carry, are fine
    expect(() =>
      parseConfigText(yaml({ hooks: '{ lord-changed: [], lord: "echo hi" }' }), 'uw.yaml', {
        hostname: () => 'h',
      }),
    ).not.toThrow();
  });
});
