/**
 * The daemon's shell around the strong-mode core: LegionRunner drives engineMachine through an
 * EngineLink, requests out unencoded, answers and watch notices back in through onPacket. The
 * engine is an in-memory EngineClient; time is the system's (short TTL), and nothing is asserted
 * about durations, only about order and outcome.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { LegionRunner } from '../../src/daemon/legion-runner.js';
import { EngineLink } from '../../src/engine/link.js';
import type {
  AcquireResult,
  EngineCandidate,
  EngineClient,
  EngineSnapshot,
  EngineTitle,
} from '../../src/engine/types.js';
import { engineMachine } from '../../src/legion/engine/machine.js';
import type { EngineMessage, EngineParams, EngineState } from '../../src/legion/engine/types.js';
import type { LegionEvent } from '../../src/legion/types.js';

class MemoryEngine {
  rev = 10n;
  candidates = new Map<string, EngineCandidate>();
  title: EngineTitle | null = null;
  watchers = new Set<() => void>();
  down = false;
  changed(): void {
    for (const w of this.watchers) setImmediate(w);
  }
}

class MemoryClient implements EngineClient {
  constructor(private readonly e: MemoryEngine) {}
  private check(): void {
    if (this.e.down) throw new Error('connection refused');
  }
  async register(me: EngineCandidate): Promise<void> {
    this.check();
    this.e.candidates.set(me.uuid, me);
    this.e.changed();
  }
  async unregister(uuid: string): Promise<void> {
    this.check();
    this.e.candidates.delete(uuid);
    if (this.e.title?.uuid === uuid) this.e.title = null;
    this.e.changed();
  }
  async acquire(uuid: string): Promise<AcquireResult> {
    this.check();
    if (this.e.title) return { ok: false, holder: this.e.title };
    this.e.title = { uuid, epoch: ++this.e.rev };
    this.e.changed();
    return { ok: true, epoch: this.e.rev };
  }
  async renew(uuid: string, epoch: bigint): Promise<boolean> {
    this.check();
    return this.e.title?.uuid === uuid && this.e.title.epoch === epoch;
  }
  async release(uuid: string, epoch: bigint): Promise<void> {
    this.check();
    if (this.e.title?.uuid === uuid && this.e.title.epoch === epoch) this.e.title = null;
    this.e.changed();
  }
  async snapshot(): Promise<EngineSnapshot> {
    this.check();
    return { candidates: [...this.e.candidates.values()], title: this.e.title };
  }
  watch(changed: () => void): () => void {
    this.e.watchers.add(changed);
    return () => this.e.watchers.delete(changed);
  }
  async close(): Promise<void> {}
}

function node(engine: MemoryEngine, uuid: string, valor: bigint) {
  const events: LegionEvent[] = [];
  const link = new EngineLink('memory', new MemoryClient(engine));
  const params: EngineParams = {
    legion: 'web',
    uuid,
    name: uuid.slice(0, 2),
    valor,
    quorum: 1,
    intervalMs: 100,
    toleranceMs: 400,
    jitter: 0,
    preempt: true,
    preemptDelayMs: 0,
    lordDelayMs: 0,
    scroll: new Uint8Array(0),
    initialEpoch: 0n,
    engine: { ttlMs: 1200 },
  };
  const runner = new LegionRunner<EngineState, EngineMessage>({
    params,
    machine: engineMachine,
    codec: {
      encode: () => {
        throw new Error('no bytes');
      },
      decode: () => {
        throw new Error('no bytes');
      },
    },
    transport: link,
    logger: pino({ level: 'silent' }),
    holdTimeoutMs: 1000,
    sink: { onEvent: (e) => events.push(e), drained: async () => {} },
  });
  return { runner, link, events };
}

async function until(pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('LegionRunner + EngineLink + the engine core', () => {
  it('elects through the client, hands over on leave, and reports an engine that stops answering', async () => {
    const e = new MemoryEngine();
    const a = node(e, 'aa000000-0000-4000-8000-000000000000', 1n);
    const b = node(e, 'bb000000-0000-4000-8000-000000000000', 2n);
    a.runner.start();
    b.runner.start();
    try {
      await until(() => b.events.some((x) => x.type === 'lord'), 'b to be lord');
      expect(b.events.find((x) => x.type === 'lord')!.epoch).toBe(e.title!.epoch);
      expect(a.events.some((x) => x.type === 'lord')).toBe(false);
      await until(() => a.runner.view().lord?.uuid === b.runner.uuid, 'a to see b');
      await b.runner.leave();
      await until(() => a.events.some((x) => x.type === 'lord'), 'a to take over');
      const order = [...b.events.map((x) => x.type)];
      expect(order.indexOf('unlord')).toBeLessThan(order.indexOf('death'));
      expect(a.events.find((x) => x.type === 'lord')!.epoch).toBeGreaterThan(
        b.events.find((x) => x.type === 'lord')!.epoch,
      );
      e.down = true;
      await until(() => !a.link.health().reachable, 'the link to see failures');
      await until(() => a.events.some((x) => x.type === 'unlord'), 'a to step down');
      expect(a.events.find((x) => x.type === 'unlord')!.reason).toBe('lease');
      expect(a.runner.view().lord).toBeNull();
      expect(a.link.health().lastError).toMatch(/connection refused/);
    } finally {
      await a.runner.close();
      await b.runner.close();
    }
  });
});
