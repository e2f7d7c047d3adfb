/**
 * A private certificate authority and a server certificate it signs for 127.0.0.1, made with the
 * machine's openssl: what an operator's internal registry presents, and what a client trusts only
 * with the CA's bundle in hand (neither is in any public trust store).
 */
import fs from 'node:fs';
import path from 'node:path';
import { run } from './process';

export interface TestCertificates {
  /** The CA's certificate (PEM): the bundle a client is given. */
  readonly caFile: string;
  /** The server's certificate (PEM), for `127.0.0.1` (subjectAltName IP and DNS localhost). */
  readonly certFile: string;
  readonly keyFile: string;
}

/** Writes a fresh CA and a server certificate it signs into `dir` (no space in its path). */
export async function makeCertificates(dir: string): Promise<TestCertificates> {
  fs.mkdirSync(dir, { recursive: true });
  const at = (f: string) => path.join(dir, f);
  const openssl = (args: string) => run('openssl', args.split(' '), { timeoutMs: 30_000 });
  await openssl(
    `req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=geosync-test-CA -keyout ${at('ca.key')} -out ${at('ca.pem')}`,
  );
  await openssl(
    `req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout ${at('server.key')} -out ${at('server.csr')}`,
  );
  // Clients check the subjectAltName, never the CN (RFC 6125 section 6.4.4).
  fs.writeFileSync(at('san.ext'), 'subjectAltName = IP:127.0.0.1, DNS:localhost\n');
  await openssl(
    `x509 -req -in ${at('server.csr')} -CA ${at('ca.pem')} -CAkey ${at('ca.key')} -CAcreateserial -days 2 -extfile ${at('san.ext')} -out ${at('server.pem')}`,
  );
  return { caFile: at('ca.pem'), certFile: at('server.pem'), keyFile: at('server.key') };
}
