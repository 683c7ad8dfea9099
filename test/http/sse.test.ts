/** Server-Sent Events framing, ids across daemon restarts, and the bounded hub. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { eventId, SseHub, seenSeq, sseComment, sseFrame } from '../../src/http/sse.js';

class Sink extends EventEmitter {
  chunks: string[] = [];
  ended = false;
  writableLength = 0;
  write(c: string) {
    this.chunks.push(c);
    return true;
  }
  end() {
    this.ended = true;
    this.emit('close');
  }
}

/** a hand-driven interval: `tick()` runs the heartbeat */
function timers() {
  const t = {
    running: 0,
    fn: null as (() => void) | null,
    setInterval: (f: () => void) => {
      t.running++;
      t.fn = f;
      return {};
    },
    clearInterval: () => {
      t.running--;
      t.fn = null;
    },
    tick: () => t.fn?.(),
  };
  return t;
}

describe('SSE framing', () => {
  it('writes event, id, retry and one data line per line, ending in a blank line', () => {
    expect(sseFrame({ event: 'entry', id: 'b-7', data: '{"a":1}' })).toBe(
      'event: entry\nid: b-7\ndata: {"a":1}\n\n',
    );
    expect(sseFrame({ data: 'one\ntwo\r\nthree\rfour' })).toBe(
      'data: one\ndata: two\ndata: three\ndata: four\n\n',
    );
    expect(sseFrame({ data: '', retry: 2000.7 })).toBe('retry: 2000\ndata: \n\n');
    expect(() => sseFrame({ event: 'a\nb', data: '' })).toThrow(RangeError);
    expect(() => sseFrame({ id: 'a\rb', data: '' })).toThrow(RangeError);
    expect(() => sseFrame({ id: 'a\0', data: '' })).toThrow(RangeError);
    expect(sseComment('heart\nbeat')).toBe(': heart beat\n\n');
  });

  it('ids carry the boot, so a restarted daemon does not extend a stale record', () => {
    expect(eventId('k2x', 41)).toBe('k2x-41');
    expect(seenSeq('k2x-41', 'k2x')).toBe(41);
    expect(seenSeq(' k2x-41 ', 'k2x')).toBe(41);
    expect(seenSeq('old-41', 'k2x')).toBeNull();
    expect(seenSeq('k2x-', 'k2x')).toBeNull();
    expect(seenSeq('k2x-1e9', 'k2x')).toBeNull();
    expect(seenSeq(undefined, 'k2x')).toBeNull();
    expect(seenSeq(null, 'k2x')).toBeNull();
  });
});

describe('SseHub', () => {
  it('is bounded, beats while someone listens, and forgets a client that closes', () => {
    const t = timers();
    const hub = new SseHub({ maxClients: 2, heartbeatMs: 15_000, ...t });
    const a = new Sink();
    const b = new Sink();
    expect(hub.add(a, 'first-a')).toBe(true);
    expect(t.running).toBe(1);
    expect(hub.add(b, 'first-b')).toBe(true);
    expect(hub.full).toBe(true);
    expect(hub.add(new Sink(), 'x')).toBe(false);
    hub.broadcast('all');
    t.tick();
    expect(a.chunks).toEqual(['first-a', 'all', ': heartbeat\n\n']);
    expect(b.chunks).toEqual(['first-b', 'all', ': heartbeat\n\n']);
    // the browser went away
    a.emit('close');
    expect(hub.size).toBe(1);
    hub.broadcast('more');
    expect(a.chunks).toHaveLength(3);
    expect(b.chunks.at(-1)).toBe('more');
    b.emit('close');
    expect(hub.size).toBe(0);
    // no listener, no timer
    expect(t.running).toBe(0);
    expect(hub.add(new Sink(), 'again')).toBe(true);
    expect(t.running).toBe(1);
    hub.close();
    expect(t.running).toBe(0);
  });

  it('drops a client that stops reading instead of buffering for it without end', () => {
    const hub = new SseHub({ maxClients: 4, heartbeatMs: 1000, maxBufferedBytes: 100, ...timers() });
    const slow = new Sink();
    const fast = new Sink();
    hub.add(slow, 'x');
    hub.add(fast, 'x');
    slow.writableLength = 101;
    hub.broadcast('y');
    expect(slow.ended).toBe(true);
    expect(hub.size).toBe(1);
    expect(fast.chunks).toEqual(['x', 'y']);
  });

  it('close ends every stream', () => {
    const hub = new SseHub({ maxClients: 4, heartbeatMs: 1000, ...timers() });
    const s = [new Sink(), new Sink()];
    for (const x of s) hub.add(x, '');
    hub.close();
    expect(s.map((x) => x.ended)).toEqual([true, true]);
    expect(hub.size).toBe(0);
  });
});
