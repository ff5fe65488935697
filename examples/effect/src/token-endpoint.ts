/**
 * An OAuth 2.0 token endpoint as an Effect service: the client_credentials grant over `fetch`,
 * interruptible (interruption aborts the request), failing with a tagged error that carries
 * the HTTP status and the OAuth error code.
 */

// #region token-endpoint
import { Context, Data, Effect, Layer } from 'effect';

/** The token endpoint answered with an error, or could not be reached. */
export class TokenEndpointError extends Data.TaggedError('TokenEndpointError')<{
  /** The OAuth `error` (`invalid_client`, `temporarily_unavailable`), or `network_error`. */
  readonly code: string;
  /** The HTTP status, or 0 when no response arrived. */
  readonly status: number;
}> {}

/** What the token endpoint returns. */
export interface TokenResponse {
  readonly access_token: string;
  readonly expires_in?: number;
}

/** The client_credentials grant of one OAuth client. */
export class TokenEndpoint extends Context.Service<
  TokenEndpoint,
  { readonly requestToken: Effect.Effect<TokenResponse, TokenEndpointError> }
>()('example/TokenEndpoint') {}
// #endregion token-endpoint

// #region token-endpoint-layer
/** Where the token endpoint is and who the client is. */
export interface ClientConfig {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scope: string;
}

/** The live token endpoint over `fetch`. */
export function tokenEndpointLayer(config: ClientConfig): Layer.Layer<TokenEndpoint> {
  const authorization = `Basic ${Buffer.from(
    `${encodeURIComponent(config.clientId)}:${encodeURIComponent(config.clientSecret)}`,
  ).toString('base64')}`;
  const requestToken = Effect.gen(function* () {
    const response = yield* Effect.tryPromise({
      // Effect aborts this signal when the fiber is interrupted: the request is cancelled.
      try: (signal) =>
        fetch(config.tokenEndpoint, {
          method: 'POST',
          headers: {
            authorization,
            'content-type': 'application/x-www-form-urlencoded',
          },
          body: new URLSearchParams({ grant_type: 'client_credentials', scope: config.scope }),
          signal,
        }),
      catch: () => new TokenEndpointError({ code: 'network_error', status: 0 }),
    });
    const body = yield* Effect.tryPromise({
      try: () => response.json() as Promise<Record<string, unknown>>,
      catch: () => new TokenEndpointError({ code: 'invalid_response', status: response.status }),
    });
    if (!response.ok || typeof body.access_token !== 'string') {
      const code = typeof body.error === 'string' ? body.error : 'invalid_response';
      return yield* new TokenEndpointError({ code, status: response.status });
    }
    return {
      access_token: body.access_token,
      ...(typeof body.expires_in === 'number' ? { expires_in: body.expires_in } : {}),
    };
  });
  return Layer.succeed(TokenEndpoint, { requestToken });
}
// #endregion token-endpoint-layer
