/**
 * A throwaway certificate authority for tests: ECDSA P-256 through WebCrypto, one CA per
 * test file, a leaf per servername in a few milliseconds.
 */

import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import type { TlsCertificate } from '../../src/index.js';

x509.cryptoProvider.set(webcrypto as never);

type KeyPair = webcrypto.CryptoKeyPair;

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;

export interface LocalCa {
  /** The CA certificate, PEM: give it to clients as `ca`. */
  readonly caPem: string;
  /**
   * Issues a leaf for `servername` valid from a minute ago (or from `notBefore`, epoch ms) for
   * `lifetimeMs` (the X.509 validity has one-second precision; `notAfter` is rounded up to
   * the next second).
   */
  issue(servername: string, lifetimeMs?: number, notBefore?: number): Promise<IssuedLeaf>;
}

export interface IssuedLeaf {
  readonly certificate: TlsCertificate;
  /** The leaf's notAfter, epoch ms. */
  readonly notAfter: number;
  /** Hex serial number, to tell certificates apart. */
  readonly serial: string;
}

let serialCounter = 1;

export async function createLocalCa(): Promise<LocalCa> {
  const caKeys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;
  const now = Date.now();
  const ca = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: '01',
    name: 'CN=Sluice Test CA',
    notBefore: new Date(now - 3_600_000),
    notAfter: new Date(now + 86_400_000),
    keys: caKeys,
    signingAlgorithm: SIGN,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
    ],
  });
  const caPem = ca.toString('pem');

  return {
    caPem,
    async issue(servername, lifetimeMs = 3_600_000, notBefore = undefined) {
      const keys = (await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify'])) as KeyPair;
      const start = Date.now();
      const notAfter = Math.ceil((start + lifetimeMs) / 1000) * 1000;
      serialCounter += 1;
      const serial = (0x10000000 + serialCounter).toString(16); // as Node prints it, lowercased
      const leaf = await x509.X509CertificateGenerator.create({
        serialNumber: serial,
        subject: `CN=${servername}`,
        issuer: ca.subject,
        notBefore: new Date(notBefore ?? start - 60_000),
        notAfter: new Date(notAfter),
        signingKey: caKeys.privateKey,
        publicKey: keys.publicKey,
        signingAlgorithm: SIGN,
        extensions: [
          new x509.BasicConstraintsExtension(false, undefined, true),
          new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
          new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
          new x509.SubjectAlternativeNameExtension([{ type: 'dns', value: servername }]),
        ],
      });
      const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
      const key = x509.PemConverter.encode(pkcs8, 'PRIVATE KEY');
      // The chain: leaf followed by the issuer (here the root itself, as a stand-in).
      const cert = `${leaf.toString('pem')}\n${caPem}\n`;
      return { certificate: { key, cert }, notAfter, serial };
    },
  };
}
