/** "HOST:PORT" and "[v6]:PORT" parsing for bind, peers and multicast groups. */
import { isIP } from 'node:net';
import type { HostPort } from './types.js';

const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;

export interface HostPortRules {
  /** the host must be an IP literal (bind, multicast group) rather than a DNS name */
  ipOnly: boolean;
  /** port 0 (any free port) is allowed: only for bind */
  allowPortZero: boolean;
}

/** Parsed address, or a message saying what is wrong with it. */
export function parseHostPort(text: string, rules: HostPortRules): HostPort | string {
  let host: string;
  let portText: string;
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(text);
  if (bracketed) {
    host = bracketed[1] ?? '';
    portText = bracketed[2] ?? '';
    if (isIP(host) !== 6) return `"${text}": the address in brackets must be an IPv6 address`;
  } else {
    const i = text.lastIndexOf(':');
    if (i <= 0) return `"${text}": expected HOST:PORT (IPv6 as [ADDR]:PORT)`;
    host = text.slice(0, i);
    portText = text.slice(i + 1);
    if (host.includes(':')) return `"${text}": write an IPv6 address in brackets, as [ADDR]:PORT`;
    if (rules.ipOnly ? isIP(host) !== 4 : isIP(host) !== 4 && !HOSTNAME.test(host)) {
      return rules.ipOnly
        ? `"${text}": "${host}" is not an IP address`
        : `"${text}": "${host}" is not a valid host`;
    }
  }
  if (!/^\d{1,5}$/.test(portText)) return `"${text}": expected a port number after the colon`;
  const port = Number(portText);
  const min = rules.allowPortZero ? 0 : 1;
  if (port < min || port > 65535) return `"${text}": port must be between ${min} and 65535`;
  return { host, port };
}

export function isMulticastAddress(host: string): boolean {
  if (isIP(host) === 4) {
    const first = Number(host.split('.')[0]);
    return first >= 224 && first <= 239;
  }
  return isIP(host) === 6 && /^ff/i.test(host);
}

/** 127.0.0.0/8 and ::1: what only this host can reach */
export function isLoopbackAddress(host: string): boolean {
  if (isIP(host) === 4) return host.split('.')[0] === '127';
  return isIP(host) === 6 && /^(0{0,4}:){7}0{0,3}1$|^::1$/i.test(host);
}
