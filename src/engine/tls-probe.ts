/**
 * Why a TLS endpoint cannot be reached. gRPC (grpc-js, under etcd3) reports a failed handshake
 * as "14 UNAVAILABLE: No connection established. Last error: null": an operator with a wrong
 * ca_file learns nothing from it. One plain TLS handshake with the same CA and client
 * certificate names the cause (e.g. "unable to verify the first certificate").
 */
import { connect } from 'node:tls';

export interface TlsMaterial {
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** the handshake error with `url` (https://host:port), or null when the handshake succeeds */
export function tlsHandshakeError(url: string, m: TlsMaterial, timeoutMs: number): Promise<string | null> {
  const u = new URL(url);
  const host = u.hostname.replace(/^\[|\]$/g, '');
  const port = Number(u.port || 443);
  return new Promise((resolve) => {
    const s = connect({
      host,
      port,
      ca: m.ca,
      ...(m.cert ? { cert: m.cert } : {}),
      ...(m.key ? { key: m.key } : {}),
      // SNI takes a name only: an IP address is checked against the certificate's IP SANs anyway
      ...(/^[\d.]+$|:/.test(host) ? {} : { servername: host }),
      ALPNProtocols: ['h2'],
    });
    const done = (why: string | null) => {
      clearTimeout(timer);
      s.destroy();
      resolve(why);
    };
    let timer = setTimeout(() => done(`no TLS handshake with ${host}:${port} in ${timeoutMs} ms`), timeoutMs);
    // under TLS 1.3 the client's handshake ends before the server has judged the client's
    // certificate: a server that refuses it says so in an alert just after, so wait a moment
    s.once('secureConnect', () => {
      clearTimeout(timer);
      timer = setTimeout(() => done(null), Math.min(300, timeoutMs));
    });
    s.once('error', (e: NodeJS.ErrnoException) =>
      done(`TLS with ${host}:${port}: ${e.message}${e.code ? ` (${e.code})` : ''}`),
    );
  });
}
