import { isIP, isIPv6 } from 'node:net';
import { LegiondError } from '../errors.js';

export interface HostPort {
  host: string;
  port: number;
}

// RFC 1123 labels; an underscore is tolerated because real-world internal names use it.
const HOSTNAME =
  /^(?=.{1,253}$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?)*\.?$/;

function bad(input: string, why: string): LegiondError {
  return new LegiondError('ERR_ADDRESS', `invalid address "${input}": ${why}`);
}

/**
 * Parses `127.0.0.1:4000`, `[::1]:4000` or `host.example:4000`. An IPv6 address must be in
 * brackets: `::1:4000` is ambiguous, so it is refused rather than guessed.
 */
export function parseHostPort(input: string): HostPort {
  const s = input.trim();
  let host: string;
  let portText: string;
  if (s.startsWith('[')) {
    const close = s.indexOf(']');
    if (close < 0) throw bad(input, 'missing "]"');
    host = s.slice(1, close);
    if (!isIPv6(host)) throw bad(input, 'only an IPv6 address may be put in brackets');
    if (s[close + 1] !== ':') throw bad(input, 'expected ":PORT" after "]"');
    portText = s.slice(close + 2);
  } else {
    const colon = s.lastIndexOf(':');
    if (colon < 0) throw bad(input, 'expected HOST:PORT');
    host = s.slice(0, colon);
    portText = s.slice(colon + 1);
    if (host.includes(':')) throw bad(input, 'write an IPv6 address in brackets, as [::1]:4000');
    if (host === '') throw bad(input, 'empty host');
    if (isIP(host) === 0 && (!HOSTNAME.test(host) || /^[0-9.]+$/.test(host))) {
      throw bad(input, 'host is neither an IP address nor a valid name');
    }
  }
  if (!/^[0-9]{1,5}$/.test(portText)) throw bad(input, 'port must be a decimal number');
  const port = Number(portText);
  if (port < 1 || port > 65535) throw bad(input, 'port must be in 1..65535');
  return { host, port };
}
