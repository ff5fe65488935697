/**
 * @sluice/tls: an `SNICallback` for Node TLS servers that serves a certificate per
 * servername from a Sluice keyed provider, with name validation, an on-demand allow
 * decision, handshake deadlines and a circuit breaker per name or per issuer.
 *
 * @packageDocumentation
 */

export {
  CertificateExpiredError,
  CertificateNotYetValidError,
  HandshakeTimeoutError,
  isTlsError,
  ServernameInvalidError,
  type ServernameProblem,
  ServernameRefusedError,
  TlsError,
  type TlsErrorCode,
} from './errors.js';
export {
  type CachedSecureContext,
  type CertificateContextOptions,
  SecureContextCache,
  type TlsCertificate,
} from './secure-context-cache.js';
export { normalizeServername, type ServernameOptions } from './servername.js';
export {
  type AllowServername,
  type CertificateMint,
  type CertificatePolicyOptions,
  createSniCallback,
  type HandshakeFailureEvent,
  type ServernameRefusedEvent,
  type SniCallback,
  type SniCallbackOptions,
  type SniDone,
  type TlsReporter,
} from './sni-callback.js';
