/**
 * The token source of the OAuth scenarios: the demo's real oidc-provider on loopback and
 * its oauth4webapi mint, imported from examples/demo (not copied), plus a wrapper that
 * records when each mint started, why, and how it ended.
 */

import type { Credential, Mint, MintReason } from '@sluice/core';
import { createClientCredentialsMint } from '../../../../examples/demo/src/oauth-mint.js';
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

/** The server's client_credentials mint, recording every call in `log`. */
export function recordedMint(server: OAuthServer, log: MintRecord[]): Mint<string> {
  const mint = createClientCredentialsMint({
    issuer: server.issuer,
    clientId: server.clientId,
    clientSecret: server.clientSecret,
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
      const credential = await mint(context);
      record.ok = true;
      return credential;
    } catch (error) {
      record.ok = false;
      throw error;
    } finally {
      record.endedAt = Date.now();
    }
  };
}
