/**
 * Client authentication at the token endpoint (RFC 6749 section 2.3, RFC 7523): the
 * `clientAuth` option of every mint, turned into oauth4webapi's `ClientAuth`.
 */

import * as oauth from 'oauth4webapi';
import { checkObject, checkSecret, invalid } from './validate.js';

/** Client authentication with a shared secret. */
export interface ClientSecretAuth {
  /**
   * `client_secret_basic` (HTTP Basic), `client_secret_post` (in the form body) or
   * `client_secret_jwt` (an HS256 assertion signed with the secret, which never travels).
   */
  readonly method: 'client_secret_basic' | 'client_secret_post' | 'client_secret_jwt';
  /** The client secret. Never printed. */
  readonly clientSecret: string;
}

/** Client authentication with a JWT assertion signed by the client's private key (RFC 7523). */
export interface PrivateKeyJwtAuth {
  /** `private_key_jwt`. */
  readonly method: 'private_key_jwt';
  /** The client's private signing key (a WebCrypto `CryptoKey`, e.g. from `crypto.subtle.importKey`). */
  readonly privateKey: CryptoKey;
  /**
   * The `kid` header of the assertions, when the server needs it to pick the public key.
   * @default none
   */
  readonly keyId?: string;
}

/** No client authentication: a public client (`client_id` in the body). */
export interface NoClientAuth {
  /** `none`. */
  readonly method: 'none';
}

/**
 * How the client authenticates at the token endpoint. The server must have the client
 * registered with the same `token_endpoint_auth_method`.
 *
 * - `client_secret_basic`: HTTP Basic with the client id and secret (the common default).
 * - `client_secret_post`: `client_id` and `client_secret` in the form body.
 * - `client_secret_jwt`: a JWT assertion signed with the secret (HS256).
 * - `private_key_jwt`: a JWT assertion signed with the client's private key (RFC 7523); the
 *   server holds the public key. No shared secret ever travels.
 * - `none`: a public client (no authentication; `client_id` in the body), for the
 *   refresh-token grant of native and browser apps.
 *
 * Secrets are kept in the mint's closure only: never in errors, events or snapshots.
 */
export type ClientAuthOptions = ClientSecretAuth | PrivateKeyJwtAuth | NoClientAuth;

/** The method names of {@link ClientAuthOptions}. */
export type ClientAuthMethod = ClientAuthOptions['method'];

const METHODS: readonly ClientAuthMethod[] = [
  'client_secret_basic',
  'client_secret_post',
  'client_secret_jwt',
  'private_key_jwt',
  'none',
];

/** Checks `clientAuth` and builds oauth4webapi's client authentication. @internal */
export function resolveClientAuth(value: unknown, option: string): oauth.ClientAuth {
  // Every part of clientAuth may hold a secret: wrong values are described by type only.
  const auth = checkObject(value, option, true);
  const method = auth.method;
  switch (method) {
    case 'client_secret_basic':
      return oauth.ClientSecretBasic(checkSecret(auth.clientSecret, `${option}.clientSecret`));
    case 'client_secret_post':
      return oauth.ClientSecretPost(checkSecret(auth.clientSecret, `${option}.clientSecret`));
    case 'client_secret_jwt':
      return oauth.ClientSecretJwt(checkSecret(auth.clientSecret, `${option}.clientSecret`));
    case 'private_key_jwt': {
      const key = auth.privateKey;
      if (!isPrivateCryptoKey(key)) {
        invalid(`${option}.privateKey`, 'a private CryptoKey that can sign', key, true);
      }
      const kid = auth.keyId === undefined ? undefined : checkSecret(auth.keyId, `${option}.keyId`);
      return oauth.PrivateKeyJwt(kid === undefined ? key : { key, kid });
    }
    case 'none':
      return oauth.None();
    default:
      return invalid(`${option}.method`, `one of ${METHODS.join(', ')}`, method, true);
  }
}

function isPrivateCryptoKey(value: unknown): value is CryptoKey {
  if (typeof value !== 'object' || value === null) return false;
  const { type, usages, algorithm } = value as {
    type?: unknown;
    usages?: unknown;
    algorithm?: unknown;
  };
  return (
    type === 'private' &&
    Array.isArray(usages) &&
    usages.includes('sign') &&
    typeof algorithm === 'object' &&
    algorithm !== null
  );
}
