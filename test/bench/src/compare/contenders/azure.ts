/**
 * The Azure SDK's token cycler (`createTokenCycler` in `@azure/core-rest-pipeline`, what
 * `bearerTokenAuthenticationPolicy` uses). It is internal and not in the package's `exports`
 * map, so this adapter DEEP-IMPORTS its dist file (`dist/esm/util/tokenCycler.js`), found next
 * to the package's `package.json`. Options: the SDK defaults (`forcedRefreshWindowInMs` 1 s,
 * `retryIntervalInMs` 3 s) except `refreshWindowInMs`, 2 minutes capped at 20% of the token
 * lifetime (see `cappedWindowMs`; with a 2-minute token the default window would refresh on
 * every call). It reads `Date.now()` and uses global timers (fake timers in the simulated
 * scenarios). The credential's `getToken` receives the caller's `abortSignal`, as real Azure
 * credentials do. A 401 is handled as the SDK handles a claims challenge (CAE): the next call
 * passes `claims`, which drops the cached token.
 */

import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { type ContenderAdapter, cappedWindowMs, type Token } from '../contender.js';

interface AccessToken {
  token: string;
  expiresOnTimestamp: number;
}
interface GetTokenOptions {
  abortSignal?: AbortSignal;
  claims?: string;
  tenantId?: string;
}
interface TokenCredential {
  getToken(scopes: string | string[], options?: GetTokenOptions): Promise<AccessToken | null>;
}
type AccessTokenGetter = (
  scopes: string | string[],
  options: GetTokenOptions,
) => Promise<AccessToken>;
type CreateTokenCycler = (
  credential: TokenCredential,
  options?: { refreshWindowInMs?: number },
) => AccessTokenGetter;

const packageJson = createRequire(import.meta.url).resolve(
  '@azure/core-rest-pipeline/package.json',
);
const { createTokenCycler } = (await import(
  pathToFileURL(join(dirname(packageJson), 'dist/esm/util/tokenCycler.js')).href
)) as { createTokenCycler: CreateTokenCycler };

const SDK_REFRESH_WINDOW_MS = 120_000;
const SCOPES = 'https://example.invalid/.default';
const NO_OPTIONS: GetTokenOptions = {};
const CLAIMS: GetTokenOptions = { claims: 'token-rejected' };

export const azureTokenCycler: ContenderAdapter = {
  id: 'azure-cycler',
  label: 'Azure tokenCycler',
  clock: 'globals',
  signals: true,
  tokenAwareInvalidate: false,
  create({ mint, lifetimeMs }) {
    const credential: TokenCredential = {
      getToken: (_scopes, options) =>
        mint(options?.abortSignal).then((token: Token) => ({
          token: token.value,
          expiresOnTimestamp: token.expiresAt,
        })),
    };
    const getToken = createTokenCycler(credential, {
      refreshWindowInMs: cappedWindowMs(SDK_REFRESH_WINDOW_MS, lifetimeMs),
    });
    let challenged = false;
    return {
      get: (signal) => {
        if (challenged) {
          challenged = false;
          return getToken(
            SCOPES,
            signal === undefined ? CLAIMS : { ...CLAIMS, abortSignal: signal },
          );
        }
        return getToken(SCOPES, signal === undefined ? NO_OPTIONS : { abortSignal: signal });
      },
      valueOf: (result) => (result as AccessToken).token,
      invalidate: () => {
        challenged = true;
      },
      close: () => {},
    };
  },
};
