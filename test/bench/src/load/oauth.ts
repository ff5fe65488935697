/**
 * The token source of the OAuth scenarios: the demo's real oidc-provider on loopback
 * (imported from examples/demo, not copied) and @sluice/oauth's client-credentials mint,
 * plus a wrapper that records when each mint started, why, and how it ended.
 */

import type { Credential, Mint, MintReason } from '@sluice/core';
import { clientCredentialsMint } from '@sluice/oauth';
import { type OAuthServer, startOAuthServer } from '../../../../examples/demo/src/oauth-server.js';

export type { OAuthServer };
export { startOAuthServer };

/** One mint as the provider ran it. Times are `Date.now()` epoch ms. */
export interface MintRecord {
  readonly startedAt: number;
  readonly reason: MintReason;
  endedAt: number | undefined;
  ok: boolean | undefined;
}

/**
 * The server's client_credentials mint, recording every call in `log`. It serves the token
 * string (the scenarios compare tokens), with the package mint's expiry.
 */
export function recordedMint(server: OAuthServer, log: MintRecord[]): Mint<string> {
  const mint = clientCredentialsMint({
    issuer: server.issuer,
    clientId: server.clientId,
    clientAuth: { method: 'client_secret_basic', clientSecret: server.clientSecret },
    scope: server.scope,
    resource: server.resource,
    allowInsecureRequests: true, // loopback http only
  });
  return async (context): Promise<Credential<string>> => {
    const record: MintRecord = {
      startedAt: Date.now(),
      reason: context.reason,
      endedAt: undefined,
      ok: undefined,
    };
    log.push(record);
    try {
      const { value, expiresAt } = await mint({ signal: context.signal, reason: context.reason });
      record.ok = true;
      return expiresAt === undefined ? { value: value.token } : { value: value.token, expiresAt };
    } catch (error) {
      record.ok = false;
      throw error;
    } finally {
      record.endedAt = Date.now();
    }
  };
}
