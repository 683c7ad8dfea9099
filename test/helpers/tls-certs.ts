/**
 * A throwaway certificate authority and a server certificate signed by it, made with the
 * openssl command line (installed with the base system; .ci/run has it) in a directory of the
 * test's. The server certificate names 127.0.0.1 and localhost, as the servers the tests start
 * listen on loopback only. A second, unrelated CA is there for the "wrong CA" cases.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TlsFiles {
  /** the CA that signed the server certificate */
  ca: string;
  /** a CA that signed nothing here: a client trusting only it must refuse the server */
  otherCa: string;
  cert: string;
  key: string;
}

function openssl(args: string[], cwd: string): void {
  try {
    execFileSync('openssl', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: Buffer };
    if (err.code === 'ENOENT') throw new Error('openssl is missing: apt-get install openssl (.ci/run does)');
    throw new Error(`openssl ${args.join(' ')} failed: ${err.stderr?.toString() ?? err.message}`);
  }
}

function selfSignedCa(dir: string, name: string): { cert: string; key: string } {
  const cert = join(dir, `${name}.crt`);
  const key = join(dir, `${name}.key`);
  openssl(
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`]
      .concat(['-keyout', key, '-out', cert, '-addext', 'basicConstraints=critical,CA:TRUE'])
      .concat(['-addext', 'keyUsage=critical,keyCertSign,cRLSign']),
    dir,
  );
  return { cert, key };
}

/** make the CA, the other CA and a server certificate for 127.0.0.1 in `dir` */
export function makeTls(dir: string): TlsFiles {
  const ca = selfSignedCa(dir, 'test-ca');
  const other = selfSignedCa(dir, 'other-ca');
  const key = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const cert = join(dir, 'server.crt');
  const ext = join(dir, 'server.ext');
  writeFileSync(
    ext,
    [
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth,clientAuth',
      'subjectAltName=IP:127.0.0.1,DNS:localhost',
      '',
    ].join('\n'),
  );
  openssl(
    ['req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', key, '-out', csr],
    dir,
  );
  openssl(
    ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-days', '2'].concat([
      '-extfile',
      ext,
      '-out',
      cert,
    ]),
    dir,
  );
  for (const f of [ca.cert, other.cert, cert, key])
    if (!existsSync(f)) throw new Error(`openssl made no ${f}`);
  return { ca: ca.cert, otherCa: other.cert, cert, key };
}
