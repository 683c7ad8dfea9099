/** Host-wide UDP counters from /proc/net/snmp: receive-buffer overflows show a node falling behind. */
import { readFileSync } from 'node:fs';

export interface UdpCounters {
  inDatagrams: number;
  rcvbufErrors: number;
}

export function udpCounters(): UdpCounters | null {
  try {
    const lines = readFileSync('/proc/net/snmp', 'utf8')
      .split('\n')
      .filter((l) => l.startsWith('Udp:'));
    const [head, values] = lines.map((l) => l.trim().split(/\s+/).slice(1));
    if (!head || !values) return null;
    const get = (k: string) => Number(values[head.indexOf(k)]);
    return { inDatagrams: get('InDatagrams'), rcvbufErrors: get('RcvbufErrors') };
  } catch {
    return null;
  }
}
