/**
 * refreshTokenMint against a small refresh-token endpoint of the test's own: rotation and
 * the onRotation hook, one request at a time per mint, public clients, and what happens when
 * two instances share one refresh token (see docs/oauth.md).
 */

import { randomBytes } from 'node:crypto';
import type { MintContext } from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { AccessToken } from '../src/access-token.js';
import { RotationHookError, TokenEndpointError } from '../src/errors.js';
import { type RefreshTokenMintOptions, refreshTokenMint } from '../src/refresh-token.js';
import { leaksOf, renderings } from './support/leaks.js';
import {
  json,
  startTokenEndpoint,
  type TokenEndpointServer,
  type TokenRequest,
} from './support/token-endpoint.js';

let server: TokenEndpointServer;

beforeAll(async () => {
  server = await startTokenEndpoint();
});

afterAll(async () => {
  await server?.close();
});

afterEach(() => {
  server.requests.length = 0;
});

const context = (signal = AbortSignal.timeout(10_000)): MintContext<AccessToken> => ({
  signal,
  reason: 'initial',
});

interface GrantOptions {
  /** Issue a new refresh token on every use and retire the old one. @default true */
  rotate?: boolean;
  /** A retired token's reuse revokes every live token (OAuth security BCP). @default false */
  reuseDetection?: boolean;
  /** Hold each answer this long, ms. @default 0 */
  delayMs?: number;
}

/** The refresh-token grant of a real server, small: rotation, retirement, reuse detection. */
function refreshGrant(options: GrantOptions = {}) {
  const live = new Set<string>();
  const retired = new Set<string>();
  let inFlight = 0;
  let maxInFlight = 0;
  let issued = 0;
  const newToken = () => `rt-${randomBytes(12).toString('base64url')}`;
  const grant = {
    issue(): string {
      const token = newToken();
      live.add(token);
      return token;
    },
    maxInFlight: () => maxInFlight,
    setRotate(on: boolean) {
      options.rotate = on;
    },
    issued: () => issued,
    used: (): string[] => server.requests.map((r) => r.form.get('refresh_token') ?? ''),
    async answer(request: TokenRequest) {
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      try {
        if ((options.delayMs ?? 0) > 0) await new Promise((r) => setTimeout(r, options.delayMs));
        if (request.form.get('grant_type') !== 'refresh_token')
          return json(400, { error: 'unsupported_grant_type' });
        const presented = request.form.get('refresh_token') ?? '';
        if (retired.has(presented) && options.reuseDetection === true) {
          live.clear();
          return json(400, {
            error: 'invalid_grant',
            error_description: 'refresh token reuse detected; grant revoked',
          });
        }
        if (!live.has(presented))
          return json(400, { error: 'invalid_grant', error_description: 'unknown refresh token' });
        issued += 1;
        const body: Record<string, unknown> = {
          access_token: `at-${issued}`,
          token_type: 'Bearer',
          expires_in: 600,
        };
        if (options.rotate !== false) {
          live.delete(presented);
          retired.add(presented);
          body.refresh_token = grant.issue();
        }
        return json(200, body);
      } finally {
        inFlight -= 1;
      }
    },
  };
  server.script((request) => grant.answer(request));
  return grant;
}

function options(
  refreshToken: RefreshTokenMintOptions['refreshToken'],
  overrides: Partial<RefreshTokenMintOptions> = {},
): RefreshTokenMintOptions {
  return {
    authorizationServer: server.metadata,
    clientId: 'mail-app',
    clientAuth: { method: 'none' },
    refreshToken,
    allowInsecureRequests: true,
    ...overrides,
  };
}

async function rejection(promise: Promise<unknown> | unknown): Promise<unknown> {
  return Promise.resolve(promise).then(
    () => {
      throw new Error('expected a rejection');
    },
    (error: unknown) => error,
  );
}

describe('rotation', () => {
  it('uses each rotated refresh token for the next mint and hands it to onRotation before resolving', async () => {
    const grant = refreshGrant();
    const first = grant.issue();
    const order: string[] = [];
    const mint = refreshTokenMint(
      options(first, {
        onRotation: async (next) => {
          await new Promise((r) => setTimeout(r, 5));
          order.push(`stored ${next}`);
        },
      }),
    );
    for (let i = 1; i <= 3; i += 1) {
      const credential = await mint(context());
      order.push(`resolved ${credential.value.token}`);
    }
    const used = grant.used();
    expect(used[0]).toBe(first);
    const stored = order
      .filter((entry) => entry.startsWith('stored '))
      .map((entry) => entry.slice(7));
    expect(used.slice(1)).toEqual(stored.slice(0, 2)); // every mint used the token stored before it
    expect(order.map((entry) => entry.split(' ')[0])).toEqual([
      'stored',
      'resolved',
      'stored',
      'resolved',
      'stored',
      'resolved',
    ]);
  });

  it('keeps sending the same refresh token when the server does not rotate, without calling the hook', async () => {
    const grant = refreshGrant({ rotate: false });
    const token = grant.issue();
    const stored: string[] = [];
    const mint = refreshTokenMint(options(token, { onRotation: (next) => void stored.push(next) }));
    await mint(context());
    await mint(context());
    expect(grant.used()).toEqual([token, token]);
    expect(stored).toEqual([]);
  });

  it('sends a public client id in the body and no Authorization header', async () => {
    const grant = refreshGrant();
    await refreshTokenMint(options(grant.issue()))(context());
    const request = server.requests[0] as TokenRequest;
    expect(request.form.get('client_id')).toBe('mail-app');
    expect(request.headers.authorization).toBeUndefined();
  });

  it('a hook error that quotes the rotated refresh token is withheld from RotationHookError (issue 14: no secret in the cause chain)', async () => {
    const grant = refreshGrant();
    let rotated = '';
    const mint = refreshTokenMint(
      options(grant.issue(), {
        onRotation: (next) => {
          rotated = next;
          throw Object.assign(new Error(`vault refused secret=${encodeURIComponent(next)}`), {
            code: 'EVAULT',
          });
        },
      }),
    );
    const error = await rejection(mint(context()));
    expect(error).toBeInstanceOf(RotationHookError);
    const cause = (error as Error).cause as Error & { code?: string };
    expect(cause).toMatchObject({ name: 'Error', code: 'EVAULT' });
    expect(cause.message).toMatch(/withheld/);
    expect(rotated).not.toBe('');
    expect(leaksOf(renderings(error), rotated)).toEqual([]);
  });

  it('fails the mint with RotationHookError when the hook throws, and stores the token on the next mint', async () => {
    const grant = refreshGrant();
    const hookError = new Error('vault unavailable');
    const stored: string[] = [];
    let failures = 1;
    const mint = refreshTokenMint(
      options(grant.issue(), {
        onRotation: (next) => {
          if (failures-- > 0) throw hookError;
          stored.push(next);
        },
      }),
    );
    const error = await rejection(mint(context()));
    expect(error).toBeInstanceOf(RotationHookError);
    expect(error).toMatchObject({ code: 'SLUICE_OAUTH_ROTATION_HOOK', cause: hookError });
    const rotatedButUnsaved = grant.used().length;
    await mint(context()); // the server accepted the rotated token: it was kept in memory
    expect(grant.used()).toHaveLength(rotatedButUnsaved + 1);
    expect(stored).toHaveLength(1);
  });

  it('stores an unsaved token on the next mint even when the server stops rotating', async () => {
    const grant = refreshGrant({ rotate: true });
    const stored: string[] = [];
    let fail = true;
    const mint = refreshTokenMint(
      options(grant.issue(), {
        onRotation: (next) => {
          if (fail) {
            fail = false;
            throw new Error('disk full');
          }
          stored.push(next);
        },
      }),
    );
    await expect(rejection(mint(context()))).resolves.toBeInstanceOf(RotationHookError);
    grant.setRotate(false);
    await mint(context());
    const used = grant.used();
    expect(used).toHaveLength(2);
    expect(stored).toEqual([used[1]]); // the token kept in memory, stored at last
    await mint(context());
    expect(stored).toHaveLength(1); // stored once: no hook call without a rotation after that
  });

  it('overrules a loader that still returns a token this mint has rotated away from', async () => {
    const grant = refreshGrant();
    const original = grant.issue();
    const mint = refreshTokenMint(options(() => original)); // a store nobody updates
    await mint(context());
    await mint(context());
    const used = grant.used();
    expect(used[0]).toBe(original);
    expect(used[1]).not.toBe(original);
  });
});

describe('one refresh at a time', () => {
  it('never sends the refresh token twice concurrently: concurrent mints queue behind one another', async () => {
    const grant = refreshGrant({ delayMs: 20 });
    const mint = refreshTokenMint(options(grant.issue()));
    const results = await Promise.all(Array.from({ length: 5 }, () => mint(context())));
    expect(grant.maxInFlight()).toBe(1);
    expect(new Set(grant.used()).size).toBe(5); // a chain: each token used once
    expect(new Set(results.map((r) => r.value.token)).size).toBe(5);
  });

  it('gives the turn back when a queued mint is aborted', async () => {
    const grant = refreshGrant({ delayMs: 30 });
    const mint = refreshTokenMint(options(grant.issue()));
    const first = mint(context());
    const controller = new AbortController();
    const queued = mint(context(controller.signal));
    const reason = new Error('mint timed out');
    controller.abort(reason);
    await expect(queued).rejects.toBe(reason);
    await first;
    await expect(mint(context())).resolves.toMatchObject({ value: { tokenType: 'Bearer' } });
    expect(grant.used()).toHaveLength(2); // the aborted mint never sent its request
  });
});

describe('two instances sharing one refresh token', () => {
  it('without a shared store, the instance that refreshes second gets invalid_grant', async () => {
    const grant = refreshGrant();
    const shared = grant.issue();
    const a = refreshTokenMint(options(shared));
    const b = refreshTokenMint(options(shared));
    await a(context());
    const error = await rejection(b(context()));
    expect(error).toBeInstanceOf(TokenEndpointError);
    expect(error).toMatchObject({ status: 400, oauthError: 'invalid_grant', transient: false });
    await expect(a(context())).resolves.toBeDefined(); // the winner is unaffected
  });

  it('with reuse detection, the loser revokes the grant and the winner fails next', async () => {
    const grant = refreshGrant({ reuseDetection: true });
    const shared = grant.issue();
    const a = refreshTokenMint(options(shared));
    const b = refreshTokenMint(options(shared));
    await a(context());
    await expect(rejection(b(context()))).resolves.toMatchObject({ oauthError: 'invalid_grant' });
    await expect(rejection(a(context()))).resolves.toMatchObject({ oauthError: 'invalid_grant' });
  });

  it('with a shared store, the loser re-reads it once and retries with the rotated token', async () => {
    const grant = refreshGrant();
    const store = { token: grant.issue() };
    const save = (next: string) => {
      store.token = next;
    };
    let openGate: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      openGate = resolve;
    });
    let bReads = 0;
    const a = refreshTokenMint(options(() => store.token, { onRotation: save }));
    const b = refreshTokenMint(
      options(
        async () => {
          const read = store.token;
          if (bReads++ === 0) await gate; // B read the store, then A refreshed before B sent
          return read;
        },
        { onRotation: save },
      ),
    );
    const pendingB = b(context());
    await new Promise((r) => setTimeout(r, 5));
    await a(context());
    openGate();
    await expect(pendingB).resolves.toMatchObject({ value: { tokenType: 'Bearer' } });
    expect(bReads).toBe(2);
    expect(server.requests.map((r) => r.form.get('refresh_token'))).toHaveLength(3);
    await expect(a(context())).resolves.toBeDefined(); // the store holds B's rotation: A goes on
  });

  it('with a shared store but reuse detection, a lost race still revokes the grant', async () => {
    const grant = refreshGrant({ reuseDetection: true });
    const store = { token: grant.issue() };
    const stale = store.token;
    const a = refreshTokenMint(
      options(() => store.token, {
        onRotation: (next) => {
          store.token = next;
        },
      }),
    );
    const b = refreshTokenMint(options(() => stale)); // read before A stored its rotation
    await a(context());
    await expect(rejection(b(context()))).resolves.toMatchObject({ oauthError: 'invalid_grant' });
    await expect(rejection(a(context()))).resolves.toMatchObject({ oauthError: 'invalid_grant' });
  });
});

describe('options and secrets', () => {
  it.each([
    ['an empty string', ''],
    ['a number', 1234567890],
    ['null', null],
  ])('rejects %s as refreshToken without echoing it', (_label, value) => {
    let thrown: unknown;
    try {
      refreshTokenMint(options(value as unknown as string));
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toMatchObject({
      code: 'SLUICE_INVALID_OPTION',
      option: 'refreshTokenMint.refreshToken',
    });
    expect((thrown as Error).message).not.toContain('1234567890');
  });

  it('rejects a non-function onRotation', () => {
    expect(() => refreshTokenMint(options('rt', { onRotation: 'save' as never }))).toThrow(
      expect.objectContaining({ option: 'refreshTokenMint.onRotation' }),
    );
  });

  it('redacts the refresh token from an error_description that echoes it', async () => {
    const secret = `rt-${'s'.repeat(30)}`;
    server.script((request) =>
      json(400, {
        error: 'invalid_grant',
        error_description: `bad token ${request.form.get('refresh_token')}`,
      }),
    );
    const error = await rejection(refreshTokenMint(options(secret))(context()));
    expect(error).toMatchObject({
      oauthError: 'invalid_grant',
      oauthErrorDescription: 'bad token [redacted]',
    });
    expect(JSON.stringify(error) + (error as Error).message).not.toContain(secret);
  });
});
