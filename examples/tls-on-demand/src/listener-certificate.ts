/**
 * The certificate of pebble's own HTTPS listeners (ACME API and management interface).
 *
 * Debian's `pebble` package ships no `test/certs/` (upstream's `pebble.minica.pem` and the
 * `localhost` pair are not installed), so each run makes a throwaway self-signed ECDSA P-256
 * certificate for `127.0.0.1` / `localhost`, valid for a day. Clients trust exactly this
 * certificate (`ca`), never a system store.
 */

import 'reflect-metadata'; // @peculiar/x509 2.x resolves its ASN.1 schemas through tsyringe
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

/** A PEM key pair for a TLS listener. The key is only written to pebble's temp config dir. */
export interface ListenerCertificate {
  /** PEM certificate; also the trust anchor clients pass as `ca`. */
  readonly certPem: string;
  /** PEM PKCS#8 private key. Never printed. */
  readonly keyPem: string;
}

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const DAY_MS = 86_400_000;

/** Creates a self-signed server certificate for the loopback address. */
export async function createListenerCertificate(): Promise<ListenerCertificate> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']);
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=sluice example pebble listener',
      keys,
      notBefore: new Date(now - 60_000),
      notAfter: new Date(now + DAY_MS),
      signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension([
          { type: 'ip', value: '127.0.0.1' },
          { type: 'dns', value: 'localhost' },
        ]),
      ],
    },
    webcrypto as unknown as Parameters<typeof x509.X509CertificateGenerator.createSelfSigned>[1],
  );
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  const keyPem = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
  return { certPem: certificate.toString('pem'), keyPem };
}
