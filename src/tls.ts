/**
 * The server's TLS material. Azure clients refuse bearer tokens over plain HTTP, so vaplane serves
 * HTTPS with a local CA it creates on first start (kept in the state directory); clients trust it
 * through `NODE_EXTRA_CA_CERTS` or `REQUESTS_CA_BUNDLE` pointed at `ca.pem`.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import selfsigned from 'selfsigned';

export interface TlsMaterial {
  cert: string;
  key: string;
  /** The CA file a client should trust, or undefined when the operator supplied the certificate. */
  caPath?: string;
}

export async function loadOrCreateTls(stateDir: string): Promise<TlsMaterial> {
  const caPath = join(stateDir, 'ca.pem');
  const certPath = join(stateDir, 'tls-cert.pem');
  const keyPath = join(stateDir, 'tls-key.pem');
  if (existsSync(caPath) && existsSync(certPath) && existsSync(keyPath)) {
    return { cert: readFileSync(certPath, 'utf8'), key: readFileSync(keyPath, 'utf8'), caPath };
  }
  const notAfterDate = new Date(Date.now() + 5 * 365 * 24 * 3600 * 1000);
  const ca = await selfsigned.generate([{ name: 'commonName', value: 'vaplane local CA' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
    ],
  });
  const leaf = await selfsigned.generate([{ name: 'commonName', value: 'localhost' }], {
    keySize: 2048,
    algorithm: 'sha256',
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 2, value: 'localhost' },
          { type: 7, ip: '127.0.0.1' },
          { type: 7, ip: '::1' },
        ],
      },
    ],
  });
  writeFileSync(keyPath, leaf.private, { mode: 0o600 });
  writeFileSync(certPath, leaf.cert);
  writeFileSync(caPath, ca.cert);
  return { cert: leaf.cert, key: leaf.private, caPath };
}
