/**
 * A legion's protocol: its core, the codec that speaks the core's packets and the core's own
 * init parameters, chosen by the legion's `protocol` and typed as one pairing, so the runner is
 * handed a machine and a codec that agree on the packet type. The host holds it as SomeProtocol,
 * which hides the state and packet types (an existential: use it whole, never mix two).
 */
import { readSecretFile } from '../config/secrets.js';
import type { LegionConfig } from '../config/types.js';
import { LegiondError } from '../errors.js';
import { type NativeState, nativeMachine } from '../legion/machine.js';
import type { LegionParams, Machine } from '../legion/types.js';
import { uwsgiMachine } from '../legion/uwsgi/machine.js';
import type { UwsgiParams, UwsgiState } from '../legion/uwsgi/types.js';
import { makeKeyRing, NativeDecoder, NativeEncoder } from '../protocol/native.js';
import type { Announce } from '../protocol/types.js';
import { type UwsgiAnnounce, UwsgiCodec } from '../protocol/uwsgi/codec.js';
import type { WireCodec } from './wire.js';

export interface Protocol<S, P> {
  readonly machine: Machine<S, P>;
  readonly codec: WireCodec<P>;
  /** the core's init parameters: the common ones plus the protocol's own (uWSGI announces carry the pid) */
  initParams(common: LegionParams): LegionParams;
  /**
   * The protocol for a reloaded config (new secrets or codec options, same protocol). A native
   * codec continues this one's seq and admits packets against its replay guard, so the rebuild
   * opens no window for replays and peers accept its packets at once.
   */
  rebuild(cfg: LegionConfig, wall: () => number): Promise<Protocol<S, P>>;
}

/** A Protocol of hidden state and packet types: `use` hands it, whole, to code generic in both. */
export interface SomeProtocol {
  use<R>(f: <S, P>(p: Protocol<S, P>) => R): R;
}

function some<S, P>(p: Protocol<S, P>): SomeProtocol {
  return { use: (f) => f(p) };
}

export async function setupProtocol(cfg: LegionConfig, wall: () => number): Promise<SomeProtocol> {
  return cfg.protocol === 'uwsgi' ? some(await uwsgiProtocol(cfg)) : some(await nativeProtocol(cfg, wall));
}

async function uwsgiProtocol(cfg: LegionConfig): Promise<Protocol<UwsgiState, UwsgiAnnounce>> {
  if (cfg.insecure || !cfg.secretFile) {
    throw new LegiondError(
      'ERR_CONFIG',
      `legion ${cfg.name}: protocol uwsgi needs secret_file (uWSGI always encrypts)`,
    );
  }
  const codec = new UwsgiCodec({
    legion: cfg.name,
    cipher: cfg.uwsgi.cipher,
    secret: await readSecretFile(cfg.secretFile),
    ...(cfg.uwsgi.iv !== null ? { iv: cfg.uwsgi.iv } : {}),
  });
  return {
    machine: uwsgiMachine,
    codec: { encode: (p, now) => codec.encode(p, now), decode: (b, now) => codec.decode(b, now) },
    initParams: (common): UwsgiParams => ({ ...common, pid: process.pid }),
    rebuild: (next) => uwsgiProtocol(next),
  };
}

/** `previous`: the codec halves a rebuilt native codec continues from (see Protocol.rebuild) */
async function nativeProtocol(
  cfg: LegionConfig,
  wall: () => number,
  previous?: { encoder: NativeEncoder; guard: NativeDecoder },
): Promise<Protocol<NativeState, Announce>> {
  let keys = null;
  if (!cfg.insecure) {
    if (!cfg.secretFile)
      throw new LegiondError('ERR_CONFIG', `legion ${cfg.name}: secret_file or insecure is required`);
    const secrets = [await readSecretFile(cfg.secretFile)];
    for (const f of cfg.acceptSecretFiles) secrets.push(await readSecretFile(f));
    keys = makeKeyRing(secrets, cfg.name);
  }
  // seq starts from the wall clock (×1000), so a legion reopened under the same UUID after a
  // SIGHUP continues above the seqs its peers already accepted
  const fromClock = BigInt(Math.floor(wall())) * 1000n;
  const lastSeq = previous?.encoder.lastSeq ?? 0n;
  const encoder = new NativeEncoder({
    legion: cfg.name,
    keys,
    wallClock: wall,
    initialSeq: lastSeq > fromClock ? lastSeq : fromClock,
  });
  const decoder = new NativeDecoder({ legion: cfg.name, keys });
  const guard = previous?.guard;
  const halves = { encoder, guard: guard ?? decoder };
  return {
    machine: nativeMachine,
    codec: {
      encode: (p) => encoder.encode(p),
      // rebuilt: authenticate with the new keys, check legion and replay with the old guard
      decode: guard
        ? (b, now) => guard.admit(decoder.inspect(b), now).announce
        : (b, now) => decoder.decode(b, now).announce,
    },
    initParams: (common) => common,
    rebuild: (next, nextWall) => nativeProtocol(next, nextWall, halves),
  };
}
