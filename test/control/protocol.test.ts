import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  COMMANDS,
  encodeEvent,
  encodeRequest,
  encodeResult,
  MAX_LINE_BYTES,
  parseRequest,
  parseServerLine,
} from '../../src/control/protocol.js';

function errorCode(line: string): string | undefined {
  const r = parseRequest(line);
  return r.ok ? undefined : (r.reply as { error: { code: string } }).error.code;
}

describe('parseRequest', () => {
  it('accepts every command with valid arguments, defaulting args to {}', () => {
    const valid: Record<string, Record<string, unknown> | undefined> = {
      status: undefined,
      members: { legion: 'web' },
      lord: { legion: 'web' },
      'valor.get': { legion: 'web' },
      'valor.set': { legion: 'web', valor: '18446744073709551615' },
      stepdown: { legion: 'web', forMs: 30_000 },
      'scroll.get': { legion: 'web' },
      'scroll.set': { legion: 'web', scroll: 'héllo\n' },
      events: {},
      leave: { legion: 'web' },
    };
    expect(Object.keys(valid).sort()).toEqual([...COMMANDS].sort());
    for (const [cmd, args] of Object.entries(valid)) {
      const r = parseRequest(JSON.stringify({ v: 1, id: 3, cmd, args }));
      expect(r, cmd).toEqual({ ok: true, request: { v: 1, id: 3, cmd, args: args ?? {} } });
    }
  });

  it.each([
    ['not json', 'ERR_BAD_REQUEST'],
    ['null', 'ERR_BAD_REQUEST'],
    ['"status"', 'ERR_BAD_REQUEST'],
    ['[]', 'ERR_BAD_REQUEST'],
    ['{"id":1,"cmd":"status"}', 'ERR_BAD_REQUEST'],
    ['{"v":"1","id":1,"cmd":"status"}', 'ERR_VERSION'],
    ['{"v":2,"id":1,"cmd":"status"}', 'ERR_VERSION'],
    ['{"v":1,"cmd":"status"}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":-1,"cmd":"status"}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1.5,"cmd":"status"}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":7}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"status","args":[]}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"toString"}', 'ERR_UNKNOWN_COMMAND'],
    ['{"v":1,"id":1,"cmd":"__proto__"}', 'ERR_UNKNOWN_COMMAND'],
    ['{"v":1,"id":1,"cmd":"reboot"}', 'ERR_UNKNOWN_COMMAND'],
    ['{"v":1,"id":1,"cmd":"valor.get"}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"valor.get","args":{"legion":""}}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"valor.set","args":{"legion":"w","valor":7}}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"stepdown","args":{"legion":"w","forMs":"60s"}}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"stepdown","args":{"legion":"w","forMs":0}}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"stepdown","args":{"legion":"w","forMs":4294967296}}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"stepdown","args":{"legion":"w","cancel":"yes"}}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"scroll.set","args":{"legion":"w"}}', 'ERR_BAD_REQUEST'],
    ['{"v":1,"id":1,"cmd":"status","args":{"legion":"w"}}', 'ERR_BAD_REQUEST'],
  ])('%s → %s', (line, code) => {
    expect(errorCode(line)).toBe(code);
  });

  it('echoes a usable id in error replies and null otherwise', () => {
    const withId = parseRequest('{"v":9,"id":42,"cmd":"status"}');
    expect(withId).toMatchObject({ ok: false, reply: { v: 1, id: 42, ok: false } });
    const noId = parseRequest('{"v":1,"id":"x","cmd":"status"}');
    expect(noId).toMatchObject({ ok: false, reply: { id: null } });
  });

  it('never throws, whatever the line', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string(),
          fc.json(),
          fc.jsonValue().map((v) => JSON.stringify(v)),
        ),
        (line) => {
          const r = parseRequest(line);
          if (!r.ok)
            expect(['ERR_BAD_REQUEST', 'ERR_VERSION', 'ERR_UNKNOWN_COMMAND']).toContain(
              (r.reply as { error: { code: string } }).error.code,
            );
        },
      ),
    );
  });
});

describe('encoding', () => {
  it('writes one line per message, bigint as a decimal string', () => {
    const line = encodeResult(5, { valor: 18446744073709551615n });
    expect(line.endsWith('\n')).toBe(true);
    expect(line.indexOf('\n')).toBe(line.length - 1);
    expect(JSON.parse(line)).toEqual({ v: 1, id: 5, ok: true, result: { valor: '18446744073709551615' } });
    expect(JSON.parse(encodeResult(6, undefined))).toEqual({ v: 1, id: 6, ok: true, result: null });
  });

  it('round-trips requests, results and events through the client parser', () => {
    fc.assert(
      fc.property(fc.nat(), fc.string(), (id, s) => {
        const req = parseRequest(encodeRequest(id, 'scroll.set', { legion: 'web', scroll: s }).trimEnd());
        expect(req).toEqual({
          ok: true,
          request: { v: 1, id, cmd: 'scroll.set', args: { legion: 'web', scroll: s } },
        });
        expect(parseServerLine(encodeResult(id, { scroll: s }).trimEnd())).toEqual({
          kind: 'result',
          id,
          result: { scroll: s },
        });
        expect(parseServerLine(encodeEvent(id, { type: s }).trimEnd())).toEqual({
          kind: 'event',
          id,
          event: { type: s },
        });
      }),
    );
  });

  it('client parser rejects lines that are not protocol messages', () => {
    for (const line of ['', 'x', '{}', '{"v":2,"id":1,"ok":true}', '{"v":1,"id":1}', '{"v":1,"ok":false}']) {
      expect(parseServerLine(line), line).toBeNull();
    }
  });

  it('the request line limit is 64 KiB', () => {
    expect(MAX_LINE_BYTES).toBe(65536);
  });
});
