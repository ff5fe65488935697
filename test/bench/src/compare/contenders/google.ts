/**
 * google-auth-library's `OAuth2Client.getAccessToken()` with a refresh token, driven without
 * HTTP: the client's `transporter` (its documented constructor option) is a stub whose
 * `request` returns the minted token as the token endpoint would (`access_token`,
 * `expires_in`). Everything above the transport is the library's own code: the eager-refresh
 * check, the refresh coalescing per refresh token (`refreshTokenPromises`), the credential
 * update. Options:
 * - `eagerRefreshThresholdMillis`: the default 5 minutes, capped at 20% of the token lifetime
 *   (see `cappedWindowMs`);
 * - `forceRefreshOnFailure: true`, the documented way to refresh after a 401 although the
 *   expiry is known (by default a 401 never refreshes); a 401 refreshes through
 *   `refreshAccessToken()`, as the client's own request path does.
 * It reads `new Date()` (fake timers in the simulated scenarios); no signal support; gaxios's
 * retry configuration is not exercised (the stub answers at once or fails).
 */

import { OAuth2Client } from 'google-auth-library';
import { type ContenderAdapter, cappedWindowMs } from '../contender.js';

const SDK_EAGER_REFRESH_MS = 300_000;

interface TokenResult {
  token?: string | null;
  credentials?: { access_token?: string | null };
}

export const googleAuth: ContenderAdapter = {
  id: 'google-auth',
  label: 'google-auth-library',
  clock: 'globals',
  signals: false,
  tokenAwareInvalidate: false,
  create({ mint, lifetimeMs }) {
    const transporter = {
      interceptors: { request: { add() {} }, response: { add() {} } },
      request: async () => {
        const token = await mint();
        return {
          data: { access_token: token.value, expires_in: (token.expiresAt - Date.now()) / 1000 },
        };
      },
    };
    const client = new OAuth2Client({
      eagerRefreshThresholdMillis: cappedWindowMs(SDK_EAGER_REFRESH_MS, lifetimeMs),
      forceRefreshOnFailure: true,
      transporter: transporter as never,
    });
    client.setCredentials({ refresh_token: 'refresh-token' });
    let rejected = false;
    return {
      get: () => {
        if (!rejected) return client.getAccessToken();
        rejected = false;
        return client.refreshAccessToken();
      },
      valueOf: (result) => {
        const r = result as TokenResult;
        return (r.token ?? r.credentials?.access_token) || undefined;
      },
      invalidate: () => {
        rejected = true;
      },
      close: () => {},
    };
  },
};
