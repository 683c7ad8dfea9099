import type { ControlHandler } from '../../src/control/handler.js';
import { parseU64 } from '../../src/control/values.js';
import { LegiondError } from '../../src/errors.js';

interface FakeLegion {
  baseValor: bigint;
  scroll: string;
  draining: boolean;
}

/** A daemon stand-in with two legions, answering in the result shapes legionctl expects. */
export class FakeHandler implements ControlHandler {
  readonly legions = new Map<string, FakeLegion>([
    ['web', { baseValor: 100n, scroll: 'addr=10.0.0.5:6379', draining: false }],
    ['db', { baseValor: 0n, scroll: '', draining: false }],
  ]);
  readonly calls: Array<{ cmd: string; args: Record<string, unknown> }> = [];
  /** what `lord` answers, per legion; tests move it and emit the matching lord-changed */
  readonly lords = new Map<
    string,
    { uuid: string; name: string; epoch: string; scroll: string; self: boolean } | null
  >([
    ['web', { uuid: 'u-a', name: 'node-a', epoch: '7', scroll: 'addr=10.0.0.5:6379', self: true }],
    ['db', null],
  ]);
  private listeners = new Set<{ legion: string | null; fn: (e: object) => void }>();

  get subscriberCount(): number {
    return this.listeners.size;
  }

  emit(legion: string, type: string, extra: Record<string, unknown> = {}): void {
    const event = {
      legion,
      type,
      epoch: '7',
      lord: { uuid: 'u-a', name: 'node-a' },
      at: '2025-01-02T03:04:05.000Z',
      ...extra,
    };
    for (const l of this.listeners) if (l.legion === null || l.legion === legion) l.fn(event);
  }

  subscribe(legion: string | null, listener: (event: object) => void): () => void {
    if (legion !== null) this.get(legion);
    const entry = { legion, fn: listener };
    this.listeners.add(entry);
    return () => this.listeners.delete(entry);
  }

  private get(legion: unknown): FakeLegion {
    const l = typeof legion === 'string' ? this.legions.get(legion) : undefined;
    if (!l) throw new LegiondError('ERR_UNKNOWN_LEGION', `no legion named "${String(legion)}"`);
    return l;
  }

  async request(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    this.calls.push({ cmd, args });
    switch (cmd) {
      case 'status':
        return {
          pid: 4242,
          legions: [...this.legions.entries()].map(([legion, l]) => ({
            legion,
            protocol: 'native',
            uuid: 'u-a',
            name: 'node-a',
            lord: { uuid: 'u-a', name: 'node-a' },
            epoch: '7',
            quorum: 1,
            quorumMet: true,
            votes: 2,
            baseValor: l.baseValor.toString(),
            valor: l.baseValor.toString(),
            draining: l.draining,
            drainingUntilMs: null,
            phase: 'running',
            members: 2,
            counters: {
              packetsSent: 10,
              packetsReceived: 12,
              bytesSent: 1000,
              bytesReceived: 1200,
              rejected: { ERR_AUTH: 3 },
            },
            checks: [{ command: 'true', state: 'ok', consecutiveOk: 4, consecutiveFail: 0 }],
          })),
        };
      case 'members': {
        const names = args.legion === undefined ? [...this.legions.keys()] : [args.legion];
        return {
          legions: names.map((legion) => ({
            legion,
            members: [
              {
                uuid: 'u-a',
                name: 'node-a',
                valor: this.get(legion).baseValor.toString(),
                lord: true,
                arbiter: false,
                observer: false,
                draining: false,
                self: true,
                lastSeenMs: 0,
                scroll: this.get(legion).scroll,
              },
              {
                uuid: 'u-b',
                name: 'node-b',
                valor: '50',
                lord: false,
                arbiter: false,
                observer: false,
                draining: false,
                self: false,
                lastSeenMs: 120,
                scroll: 'x'.repeat(40),
              },
            ],
          })),
        };
      }
      case 'lord':
        this.get(args.legion);
        return { legion: args.legion, lord: this.lords.get(String(args.legion)) ?? null };
      case 'valor.get': {
        const l = this.get(args.legion);
        return { legion: args.legion, baseValor: l.baseValor.toString(), valor: l.baseValor.toString() };
      }
      case 'valor.set': {
        const l = this.get(args.legion);
        l.baseValor = parseU64(String(args.valor), 'valor');
        return { legion: args.legion, baseValor: l.baseValor.toString(), valor: l.baseValor.toString() };
      }
      case 'stepdown': {
        const l = this.get(args.legion);
        l.draining = args.cancel !== true;
        return {
          legion: args.legion,
          draining: l.draining,
          drainingUntilMs: l.draining ? 1000 + Number(args.forMs ?? 60_000) : null,
        };
      }
      case 'scroll.get':
        return { legion: args.legion, scroll: this.get(args.legion).scroll };
      case 'scroll.set': {
        const l = this.get(args.legion);
        l.scroll = String(args.scroll);
        return { legion: args.legion, scroll: l.scroll };
      }
      case 'leave':
        this.get(args.legion);
        this.legions.delete(String(args.legion));
        return { legion: args.legion, left: true };
      default:
        throw new Error(`fake handler has no ${cmd}`);
    }
  }
}
