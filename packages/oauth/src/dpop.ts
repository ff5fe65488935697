/**
 * DPoP (RFC 9449): one key pair per mint (so per provider), generated on first use or given,
 * and the oauth4webapi handle that signs proofs with it and remembers server nonces.
 */

import * as oauth from 'oauth4webapi';
import type { WebCryptoKeyPair } from './web-crypto.js';

/** DPoP proof signing algorithms a key pair can be generated for. */
export type DPoPAlgorithm = 'ES256' | 'ES384' | 'ES512' | 'PS256' | 'RS256' | 'Ed25519';

/** Options of DPoP-bound tokens (the `dpop` option of every mint). */
export interface DPoPOptions {
  /**
   * The key pair that signs the proofs; its public key must be extractable (it travels in
   * every proof). Absent: one is generated on the first mint with `algorithm`, its private
   * key not extractable, and kept for the life of the mint.
   * @default generated
   */
  keyPair?: WebCryptoKeyPair;
  /**
   * The algorithm of the generated key pair (ignored with `keyPair`). The server must accept
   * it (its `dpop_signing_alg_values_supported`).
   * @default 'ES256'
   */
  algorithm?: DPoPAlgorithm;
}

/** The key of a mint: the handle, created once. @internal */
export interface DPoPKey {
  handle(): Promise<oauth.DPoPHandle>;
}

/**
 * The DPoP key of one mint. A generated key pair is created on the first call and reused by
 * every later one (a failed generation is retried by the next call). @internal
 */
export function createDPoPKey(options: {
  keyPair: CryptoKeyPair | undefined;
  algorithm: DPoPAlgorithm;
}): DPoPKey {
  let pending: Promise<oauth.DPoPHandle> | undefined;
  return {
    handle() {
      if (pending === undefined) {
        const created = (async () => {
          const keyPair = options.keyPair ?? (await oauth.generateKeyPair(options.algorithm));
          return oauth.DPoP({}, keyPair);
        })();
        pending = created;
        created.catch(() => {
          if (pending === created) pending = undefined;
        });
      }
      return pending;
    },
  };
}
