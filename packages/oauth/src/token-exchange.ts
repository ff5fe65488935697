/**
 * OAuth 2.0 Token Exchange (RFC 8693) as a Sluice mint: trade a token you hold (a user's, or
 * your own from another issuer) for one scoped to a downstream API.
 */

import { InvalidOptionError, type Mint, type MintContext } from '@sluice/core';
import * as oauth from 'oauth4webapi';
import type { AccessToken } from './access-token.js';
import { withAccessTokenTraits } from './access-token-codec.js';
import {
  type Grant,
  requestToken,
  resolveTokenEndpoint,
  type TokenEndpointOptions,
} from './token-request.js';
import { invalid, optionalString, optionalStrings } from './validate.js';

/** The token type URNs of RFC 8693 section 3. */
export const TOKEN_TYPES = Object.freeze({
  /** An OAuth 2.0 access token. */
  accessToken: 'urn:ietf:params:oauth:token-type:access_token',
  /** An OAuth 2.0 refresh token. */
  refreshToken: 'urn:ietf:params:oauth:token-type:refresh_token',
  /** An OpenID Connect ID token. */
  idToken: 'urn:ietf:params:oauth:token-type:id_token',
  /** A JWT (RFC 7519). */
  jwt: 'urn:ietf:params:oauth:token-type:jwt',
  /** A base64url-encoded SAML 1.1 assertion. */
  saml1: 'urn:ietf:params:oauth:token-type:saml1',
  /** A base64url-encoded SAML 2.0 assertion. */
  saml2: 'urn:ietf:params:oauth:token-type:saml2',
} as const);

/** The grant type of RFC 8693. */
export const TOKEN_EXCHANGE_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:token-exchange';

/** Anything holding a token, such as an {@link AccessToken}. */
export interface TokenHolder {
  /** The token. */
  readonly token: string;
}

/**
 * A token to send: the token itself, or a function of the mint's context returning it (or
 * an `AccessToken`, or a promise of either), called on every mint: pass
 * `({ signal }) => upstream.get({ signal })` to exchange another provider's current token.
 */
export type TokenSource =
  | string
  | ((
      context: MintContext<AccessToken>,
    ) => string | TokenHolder | PromiseLike<string | TokenHolder>);

/** Options of {@link tokenExchangeMint}. */
export interface TokenExchangeMintOptions extends TokenEndpointOptions {
  /** The token to exchange (`subject_token`). Required. */
  subjectToken: TokenSource;
  /**
   * What `subjectToken` is (`subject_token_type`), one of {@link TOKEN_TYPES} or another URN.
   * @default TOKEN_TYPES.accessToken
   */
  subjectTokenType?: string;
  /**
   * A token representing the party acting on the subject's behalf (`actor_token`), for
   * delegation.
   * @default none
   */
  actorToken?: TokenSource;
  /**
   * What `actorToken` is (`actor_token_type`).
   * @default TOKEN_TYPES.accessToken when `actorToken` is given
   */
  actorTokenType?: string;
  /**
   * The kind of token wanted (`requested_token_type`).
   * @default none (the server's choice, usually an access token)
   */
  requestedTokenType?: string;
  /**
   * The logical name(s) of the target service (`audience`); `resource` names it by URI.
   * @default none
   */
  audience?: string | readonly string[];
}

/**
 * A mint for the token-exchange grant (RFC 8693). Each mint reads `subjectToken` (and
 * `actorToken`) afresh, sends one token request (two when a DPoP server asks for a nonce) and
 * returns the issued token as a `Credential<AccessToken>`, with its `issuedTokenType`. An
 * answer whose token cannot be presented as an access token is refused with
 * `InvalidTokenResponseError`: a `token_type` of `N_A`, or an `issued_token_type` of an ID
 * token or a refresh token. Lifetime rules, errors, discovery and mint traits (the codec, or
 * `unshareable` with DPoP) are those of {@link clientCredentialsMint}.
 *
 * @throws {InvalidOptionError} `SLUICE_INVALID_OPTION` naming the bad option. From the mint,
 *   also when a `subjectToken`/`actorToken` function returns no token (the value is never
 *   echoed).
 * @example
 * ```ts
 * const downstream = await createRefreshingProvider({
 *   name: 'ledger-api',
 *   mint: tokenExchangeMint({
 *     issuer: 'https://auth.example.com',
 *     clientId: 'gateway',
 *     clientAuth: { method: 'private_key_jwt', privateKey },
 *     subjectToken: ({ signal }) => upstream.get({ signal }),
 *     audience: 'ledger',
 *   }),
 * });
 * ```
 */
export function tokenExchangeMint(options: TokenExchangeMintOptions): Mint<AccessToken> {
  const fn = 'tokenExchangeMint';
  const endpoint = resolveTokenEndpoint(options, fn);
  const subject = checkTokenSource(options.subjectToken, `${fn}.subjectToken`, true);
  const subjectType =
    optionalString(options.subjectTokenType, `${fn}.subjectTokenType`) ?? TOKEN_TYPES.accessToken;
  const actor = checkTokenSource(options.actorToken, `${fn}.actorToken`, false);
  const actorType = optionalString(options.actorTokenType, `${fn}.actorTokenType`);
  if (actor === undefined && actorType !== undefined) {
    invalid(`${fn}.actorTokenType`, 'absent without actorToken', actorType);
  }
  const requested = optionalString(options.requestedTokenType, `${fn}.requestedTokenType`);
  const audiences = optionalStrings(options.audience, `${fn}.audience`);

  const mint: Mint<AccessToken> = async (context) => {
    const subjectToken = await readToken(subject as TokenSource, context, `${fn}.subjectToken`);
    const actorToken =
      actor === undefined ? undefined : await readToken(actor, context, `${fn}.actorToken`);
    const grant: Grant = {
      type: TOKEN_EXCHANGE_GRANT_TYPE,
      send: (as, requestOptions) => {
        const parameters = endpoint.parameters();
        parameters.set('subject_token', subjectToken);
        parameters.set('subject_token_type', subjectType);
        if (actorToken !== undefined) {
          parameters.set('actor_token', actorToken);
          parameters.set('actor_token_type', actorType ?? TOKEN_TYPES.accessToken);
        }
        if (requested !== undefined) parameters.set('requested_token_type', requested);
        if (audiences !== undefined) {
          parameters.delete('audience');
          for (const audience of audiences) parameters.append('audience', audience);
        }
        return oauth.genericTokenEndpointRequest(
          as,
          endpoint.client,
          endpoint.clientAuth,
          TOKEN_EXCHANGE_GRANT_TYPE,
          parameters,
          requestOptions,
        );
      },
      process: (as, response) =>
        oauth.processGenericTokenEndpointResponse(as, endpoint.client, response, {
          recognizedTokenTypes: { n_a: () => {} },
        }),
    };
    return (await requestToken(endpoint, grant, context.signal)).credential;
  };
  return withAccessTokenTraits(mint, endpoint.dpop !== undefined);
}

function checkTokenSource(
  value: unknown,
  option: string,
  required: boolean,
): TokenSource | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value === 'function') return value as TokenSource;
  if (typeof value === 'string' && value !== '') return value;
  // A wrong token is described by its type only: it may be a secret.
  throw new InvalidOptionError(option, 'a non-empty string or a function returning one', value, {
    secret: true,
  });
}

/** Reads a token source for one mint. */
async function readToken(
  source: TokenSource,
  context: MintContext<AccessToken>,
  option: string,
): Promise<string> {
  if (typeof source === 'string') return source;
  const value: unknown = await source(context);
  if (typeof value === 'string' && value !== '') return value;
  if (typeof value === 'object' && value !== null) {
    const token = (value as { token?: unknown }).token;
    if (typeof token === 'string' && token !== '') return token;
  }
  throw new InvalidOptionError(
    option,
    'a function returning a non-empty string or an object with a string `token`',
    value,
    { secret: true },
  );
}
