/** The UDP transport's options for a legion's config, peer learning included. */
import type { LegionConfig } from '../config/types.js';
import { HintCodec } from '../protocol/hints.js';
import type { LearningOptions } from '../transport/learning.js';
import type { UdpTransportOptions } from '../transport/udp.js';
import { legionKeys } from './key-ring.js';
import type { Logger } from './logger.js';

/**
 * Peer learning runs for a native legion with unicast peers and a secret: hints are sealed with
 * the legion's key, and without one anyone could add destinations.
 */
export async function learningOf(
  cfg: LegionConfig,
  uuid: string,
  log: Logger,
): Promise<LearningOptions | undefined> {
  if (!cfg.learnPeers || cfg.protocol !== 'native' || cfg.peers.length === 0) return undefined;
  const keys = await legionKeys(cfg);
  if (keys === null) {
    log.info('peer learning needs a secret: sending only to the listed peers');
    return undefined;
  }
  // joins are told at once (a new address triggers a hint); the period only keeps addresses alive,
  // so it can be slow: at the defaults one hint per 5 s per destination, 5 % of the announces
  const hintEveryMs = Math.max(20 * cfg.intervalMs, 5000);
  return {
    codec: new HintCodec(keys),
    uuid,
    max: cfg.learnedPeersMax,
    hintEveryMs,
    ttlMs: Math.max(3 * hintEveryMs, 2 * cfg.toleranceMs),
  };
}

export function udpOptions(cfg: LegionConfig, learning: LearningOptions | undefined): UdpTransportOptions {
  return {
    ...(learning ? { learning } : {}),
    bind: { address: cfg.bind.host, port: cfg.bind.port },
    ...(cfg.multicast
      ? {
          multicast: {
            group: cfg.multicast.group.host,
            port: cfg.multicast.group.port,
            ...(cfg.multicast.interface ? { interface: cfg.multicast.interface } : {}),
            ttl: cfg.multicast.ttl,
            loop: cfg.multicast.loop,
          },
        }
      : {}),
    peers: cfg.peers,
    peerResolveIntervalMs: cfg.peerResolveIntervalMs,
  };
}
