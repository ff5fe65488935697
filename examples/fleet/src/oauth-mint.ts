/**
 * A Sluice mint for the OAuth 2.0 `client_credentials` grant, built on oauth4webapi:
 * discovery once, then one token request per mint, `expires_in` turned into `expiresAt`.
 * (The example keeps its own small mint rather than depending on `@sluice/oauth`, so it shows
 * `@sluice/redis` with nothing but core and a plain mint.)
 */

import { credentialFromExpiresIn, type Mint } from '@sluice/core';
import * as oauth from 'oauth4webapi';

/** Options of {@link createClientCredentialsMint}. */
export interface ClientCredentialsMintOptions {
  /** The issuer identifier; its discovery document names the token endpoint. */
  issuer: string | URL;
  clientId: string;
  /** Sent with HTTP Basic authentication (`client_secret_basic`). Never printed. */
  clientSecret: string;
  /** Space-separated scopes to request. @default none (the server's default) */
  scope?: string;
  /** A resource indicator (RFC 8707) to request a token for. @default none */
  resource?: string;
  /**
   * The clock `expires_in` is converted with, in epoch milliseconds. Pass the provider's
   * `now` when it is injected, so both agree.
   * @default () => Date.now()
   */
  now?: () => number;
  /**
   * Allow plain `http:` issuers. Off by default; only ever for a loopback test server.
   * @default false
   */
  allowInsecureRequests?: boolean;
}

/**
 * The token endpoint answered something other than 200. The message carries the HTTP status
 * and the OAuth `error` / `error_description` when the body has them, never a token.
 */
export class TokenEndpointError extends Error {
  /** Stable code, so reporters can tell it apart from network errors. */
  readonly code = 'TOKEN_ENDPOINT_ERROR';
  /** The HTTP status of the answer. */
  readonly status: number;
  /** The OAuth `error` code from the body, if there was one. */
  readonly oauthError: string | undefined;

  constructor(status: number, oauthError: string | undefined, description: string | undefined) {
    const detail = [oauthError, description].filter((part) => part !== undefined).join(': ');
    super(`token endpoint answered HTTP ${status}${detail === '' ? '' : ` (${detail})`}`);
    this.name = 'TokenEndpointError';
    this.status = status;
    this.oauthError = oauthError;
  }
}

/**
 * Creates a mint that obtains an access token with the `client_credentials` grant. The
 * discovery document is fetched by the first mint and reused (fetched again if that failed);
 * the mint's `signal` is passed to every request, so a Sluice timeout or `close()` aborts it.
 *
 * @throws (from the mint) {@link TokenEndpointError} for any non-200 answer of the token
 *   endpoint, oauth4webapi's errors for a malformed 200 answer, fetch's errors for the network.
 * @example
 * ```ts
 * const provider = await createRefreshingProvider({
 *   name: 'billing-api',
 *   mint: createClientCredentialsMint({ issuer, clientId, clientSecret }),
 * });
 * ```
 */
export function createClientCredentialsMint(options: ClientCredentialsMintOptions): Mint<string> {
  const issuer = new URL(options.issuer);
  const client: oauth.Client = { client_id: options.clientId };
  const clientAuth = oauth.ClientSecretBasic(options.clientSecret);
  const insecure = options.allowInsecureRequests === true;
  const parameters = new URLSearchParams();
  if (options.scope !== undefined) parameters.set('scope', options.scope);
  if (options.resource !== undefined) parameters.set('resource', options.resource);
  const now = options.now;

  let discovered: Promise<oauth.AuthorizationServer> | undefined;
  const discover = (signal: AbortSignal): Promise<oauth.AuthorizationServer> => {
    if (discovered === undefined) {
      const attempt = oauth
        .discoveryRequest(issuer, {
          algorithm: 'oidc',
          signal,
          [oauth.allowInsecureRequests]: insecure,
        })
        .then((response) => oauth.processDiscoveryResponse(issuer, response));
      discovered = attempt;
      attempt.catch(() => {
        if (discovered === attempt) discovered = undefined;
      });
    }
    return discovered;
  };

  return async ({ signal }) => {
    const as = await discover(signal);
    const response = await oauth.clientCredentialsGrantRequest(as, client, clientAuth, parameters, {
      signal,
      [oauth.allowInsecureRequests]: insecure,
    });
    if (response.status !== 200) throw await tokenEndpointError(response);
    const body = await oauth.processClientCredentialsResponse(as, client, response);
    return credentialFromExpiresIn(
      body.access_token,
      body.expires_in,
      now === undefined ? {} : { now },
    );
  };
}

async function tokenEndpointError(response: Response): Promise<TokenEndpointError> {
  let error: string | undefined;
  let description: string | undefined;
  try {
    const body: unknown = await response.json();
    if (typeof body === 'object' && body !== null) {
      const fields = body as { error?: unknown; error_description?: unknown };
      if (typeof fields.error === 'string') error = fields.error;
      if (typeof fields.error_description === 'string') description = fields.error_description;
    }
  } catch {
    // not JSON (a proxy's HTML error page, say): the status alone has to do
  }
  return new TokenEndpointError(response.status, error, description);
}
