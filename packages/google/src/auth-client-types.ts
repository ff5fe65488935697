/**
 * The parts of google-auth-library's clients this package touches, as structural types, so a
 * client from google-auth-library 9 or 10 (or any later version with the same shape) fits
 * without tying the user to the version this package was built against.
 */

/** What a refresh handler resolves to (google-auth-library's `AccessTokenResponse`). */
export interface GoogleAccessTokenResponse {
  /** The access token. */
  access_token: string;
  /** When it expires, in epoch milliseconds. */
  expiry_date: number;
}

/** google-auth-library's `GetRefreshHandlerCallback`. */
export type GoogleRefreshHandler = () => Promise<GoogleAccessTokenResponse>;

/**
 * The credentials an auth client caches (google-auth-library's `Credentials`, the fields
 * read here).
 */
export interface GoogleCachedCredentials {
  /** The cached access token. */
  access_token?: string | null;
  /** Its expiry, in epoch milliseconds. */
  expiry_date?: number | null;
}

/** What `AuthClient.getAccessToken()` resolves to (the field read here). */
export interface GoogleAccessTokenResult {
  /** The access token, or `null`/absent when the client has none. */
  token?: string | null;
}

/**
 * Any google-auth-library `AuthClient` (`Compute`, `JWT`, `UserRefreshClient`,
 * `Impersonated`, an external-account client, ... from version 9 or 10), as a source of
 * access tokens.
 */
export interface GoogleAuthClientLike {
  /** Resolves the client's access token, refreshing it when the client judges it expiring. */
  getAccessToken(): Promise<GoogleAccessTokenResult>;
  /** The client's cached credentials; read for `expiry_date`. */
  credentials: GoogleCachedCredentials;
  /** How long before expiry the client refreshes on its own, in milliseconds. */
  eagerRefreshThresholdMillis: number;
}

/**
 * A google-auth-library `OAuth2Client` (version 9 or 10) that presents tokens: the parts
 * of it a refresh handler is installed on.
 */
export interface GoogleRefreshHandlerClient {
  /** Called when the client has no token or judges its token expiring. */
  refreshHandler?: GoogleRefreshHandler;
  /** The client's cached credentials, cleared by `GoogleTokens.invalidate()`. */
  credentials: GoogleCachedCredentials;
  /** How long before expiry the client asks the handler again, in milliseconds. */
  eagerRefreshThresholdMillis: number;
}
