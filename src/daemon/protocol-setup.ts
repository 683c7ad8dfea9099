import { readSecretFile } from '../config/secrets.js';
import type { LegionConfig } from '../config/types.js';
import { LegiondError } from '../errors.js';
import { nativeMachine } from '../legion/machine.js';
import type { Machine } from '../legion/types.js';
import { uwsgiMachine } from '../legion/uwsgi/machine.js';
import { NativeDecoder, NativeEncoder } from '../protocol/native.js';
import { UwsgiCodec } from '../protocol/uwsgi/codec.js';
import { legionKeys } from './key-ring.js';
import type { WireCodec } from './wire.js';

/** A core and the codec that speaks its packets, chosen by the legion's `protocol`. */
export interface ProtocolPair {
  // biome-ignore lint/suspicious/noExplicitAny: the runner is generic; the pair is matched here
  machine: Machine<any, any>;
  // biome-ignore lint/suspicious/noExplicitAny: see above
  codec: WireCodec<any>;
  /** extra init parameters the core takes (uWSGI announces carry the pid) */
  extraParams: Record<string, unknown>;
  /** the native codec's halves, which a codec rebuilt at a reload continues from */
  native?: { encoder: NativeEncoder; guard: NativeDecoder };
}

/**
 * `previous`: the pair this one replaces at a reload (new secrets or codec options, same
 * protocol). A native codec then continues the old one's seq and admits packets against the old
 * replay guard, so the rebuild opens no window for replays and peers accept its packets at once.
 */
export async function setupProtocol(
  cfg: LegionConfig,
  wall: () => number,
  previous?: ProtocolPair,
): Promise<ProtocolPair> {
  if (cfg.protocol === 'uwsgi') {
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
      extraParams: { pid: process.pid },
    };
  }
  const keys = await legionKeys(cfg);
  // seq starts from the wall clock (×1000), so a legion reopened under the same UUID after a
  // SIGHUP continues above the seqs its peers already accepted
  const fromClock = BigInt(Math.floor(wall())) * 1000n;
  const lastSeq = previous?.native?.encoder.lastSeq ?? 0n;
  const encoder = new NativeEncoder({
    legion: cfg.name,
    keys,
    wallClock: wall,
    initialSeq: lastSeq > fromClock ? lastSeq : fromClock,
  });
  const decoder = new NativeDecoder({ legion: cfg.name, keys });
  const guard = previous?.native?.guard;
  return {
    machine: nativeMachine,
    codec: {
      encode: (p) => encoder.encode(p),
      // rebuilt: authenticate with the new keys, check legion and replay with the old guard
      decode: guard
        ? (b, now) => guard.admit(decoder.inspect(b), now).announce
        : (b, now) => decoder.decode(b, now).announce,
    },
    extraParams: {},
    native: { encoder, guard: guard ?? decoder },
  };
}
