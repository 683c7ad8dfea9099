import type { LearningStats } from './learning.js';
/** What the daemon needs from a network; node:dgram implements it, and so does the simulator. */
export interface Datagram {
  bytes: Uint8Array;
  /** for logs only: never identify a peer by its source address */
  from: { address: string; port: number };
}

export interface TransportStats {
  packetsSent: number;
  bytesSent: number;
  packetsReceived: number;
  bytesReceived: number;
  sendErrors: number;
  /** present when the transport learns peers through seeds */
  learning?: LearningStats;
}

export interface Transport {
  /** send to every destination (multicast group and/or unicast peers) */
  send(bytes: Uint8Array): void;
  onDatagram(handler: (d: Datagram) => void): void;
  stats(): TransportStats;
  close(): Promise<void>;
}
