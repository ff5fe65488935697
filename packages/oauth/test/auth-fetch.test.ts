/**
 * createAuthFetch, rule by rule, against a real oidc-provider issuing JWT access tokens and a
 * `node:http` resource server that validates them (and their DPoP proofs) with oauth4webapi
 * and answers each `WWW-Authenticate` variant.
 */

import {
  createKeyedProvider,
  createRefreshingProvider,
  type InvalidateRefusedEvent,
  type MintReason,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from '@sluice/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AccessToken } from '../src/access-token.js';
import { createAuthFetch } from '../src/auth-fetch.js';
import {
  type ClientCredentialsMintOptions,
  clientCredentialsMint,
} from '../src/client-credentials.js';
import { isOAuthError } from '../src/errors.js';
import {
  API,
  type AuthorizationServer,
  startAuthorizationServer,
} from './support/authorization-server.js';
import { until } from './support/fetch-tools.js';
import { claimsOf } from './support/jwt.js';
import { leaksOf, renderings } from './support/leaks.js';
import { type ResourceServer, refuse, startResourceServer } from './support/resource-server.js';

let as: AuthorizationServer;
let rs: ResourceServer;
const providers: RefreshingProvider<unknown>[] = [];

beforeAll(async () => {
  as = await startAuthorizationServer({ accessTokenTtlSeconds: 300 });
  rs = await startResourceServer(as.issuer, API);
});

afterAll(async () => {
  await Promise.all([rs?.close(), as?.close()]);
});

afterEach(() => {
  for (const provider of providers.splice(0)) provider.close();
  rs.behave(undefined);
  rs.requireNonce(false);
  rs.requests.length = 0;
  as.setTokenFault(undefined);
});

interface Harness {
  provider: RefreshingProvider<AccessToken>;
  api: ReturnType<typeof createAuthFetch>;
  /** Mints started, by reason. */
  mints: MintReason[];
  refused: InvalidateRefusedEvent[];
}

async function harness(
  options: {
    dpop?: boolean;
    mint?: Partial<ClientCredentialsMintOptions>;
    provider?: Partial<RefreshingProviderOptions<AccessToken>>;
  } = {},
): Promise<Harness> {
  const mints: MintReason[] = [];
  const refused: InvalidateRefusedEvent[] = [];
  const client = options.dpop === true ? as.dpop : as.basic;
  const provider = await createRefreshingProvider<AccessToken>({
    name: 'api',
    mint: clientCredentialsMint({
      issuer: as.issuer,
      clientId: client.clientId,
      clientAuth: { method: 'client_secret_basic', clientSecret: client.clientSecret },
      resource: API,
      dpop: options.dpop === true,
      allowInsecureRequests: true,
      ...options.mint,
    }),
    reporter: {
      onRefreshStart: (event) => mints.push(event.reason),
      onInvalidateRefused: (event) => refused.push(event),
    },
    ...options.provider,
  });
  providers.push(provider as RefreshingProvider<unknown>);
  return {
    provider,
    api: createAuthFetch(provider, { allowInsecureRequests: true }),
    mints,
    refused,
  };
}

/** The resource server answers the first request with `first`, then validates as usual. */
function firstAnswer(first: { status: number; headers?: Record<string, string> }) {
  let answered = false;
  rs.behave((_request, validate) => {
    if (answered) return validate();
    answered = true;
    return first;
  });
}

describe('presenting the token', () => {
  it("sends the provider's token as Authorization: Bearer and gets the resource", async () => {
    const { provider, api } = await harness();
    const response = await api(`${rs.url}/invoices`);
    expect(response.status).toBe(200);
    expect(rs.requests[0]).toMatchObject({ scheme: 'bearer', token: (await provider.get()).token });
  });

  it('replaces an Authorization or DPoP header the caller set and keeps the others', async () => {
    const { api } = await harness();
    const response = await api(`${rs.url}/x`, {
      headers: { authorization: 'Basic Zm9vOmJhcg==', dpop: 'stale', 'x-request-id': 'r-1' },
    });
    expect(response.status).toBe(200);
    expect(rs.requests[0]?.scheme).toBe('bearer');
    expect(rs.requests[0]?.proof).toBe('');
  });

  it('presents the plain string tokens of your own mint as Bearer tokens', async () => {
    const mint = clientCredentialsMint({
      issuer: as.issuer,
      clientId: as.basic.clientId,
      clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
      resource: API,
      allowInsecureRequests: true,
    });
    const provider = await createRefreshingProvider<string>({
      mint: async (context) => {
        const { value, expiresAt } = await mint(context as never);
        return expiresAt === undefined ? { value: value.token } : { value: value.token, expiresAt };
      },
    });
    providers.push(provider as RefreshingProvider<unknown>);
    const response = await createAuthFetch(provider, { allowInsecureRequests: true })(
      `${rs.url}/plain`,
    );
    expect(response.status).toBe(200);
    expect(rs.requests[0]?.token).toBe(await provider.get());
  });

  it('sends a DPoP-bound token with a fresh proof per request, bound to method, URL and token', async () => {
    const { provider, api } = await harness({ dpop: true });
    const token = await provider.get();
    expect(token.tokenType).toBe('DPoP');
    const answers = [
      await api(`${rs.url}/a?page=2`),
      await api(`${rs.url}/b`, { method: 'POST', body: 'x' }),
      await api(new Request(`${rs.url}/c`, { method: 'DELETE' })),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]); // oauth4webapi checked each proof
    const proofs = rs.requests.map((r) => r.proofClaims ?? {});
    expect(rs.requests.map((r) => r.scheme)).toEqual(['dpop', 'dpop', 'dpop']);
    expect(new Set(proofs.map((p) => p.jti)).size).toBe(3);
    expect(proofs.map((p) => [p.htm, p.htu])).toEqual([
      ['GET', `${rs.url}/a`],
      ['POST', `${rs.url}/b`],
      ['DELETE', `${rs.url}/c`],
    ]);
    const bound = (await answers[0]?.json()) as { boundTo: string };
    expect(bound.boundTo).toBe(await token.dpop?.calculateThumbprint());
  });

  it("takes a Request's method, headers and body-less replay from the Request itself", async () => {
    const { api } = await harness();
    const response = await api(
      new Request(`${rs.url}/r`, { method: 'PUT', headers: { 'x-kept': '1' } }),
    );
    expect(response.status).toBe(200);
    expect(rs.requests[0]?.method).toBe('PUT');
  });

  it('refuses an http: URL before fetching any token unless allowInsecureRequests is set', async () => {
    const { provider, mints } = await harness({ provider: { lazy: true } });
    const error = await createAuthFetch(provider)(`${rs.url}/x`).catch((caught: unknown) => caught);
    expect(isOAuthError(error, 'SLUICE_OAUTH_INSECURE_REQUEST')).toBe(true);
    expect(error).toMatchObject({ protocol: 'http:' });
    expect(mints).toEqual([]);
    expect(rs.requests).toHaveLength(0);
  });

  it('rejects with UnsupportedTokenError for a provider value that is no token', async () => {
    const provider = await createRefreshingProvider<unknown>({ mint: () => ({ value: 42 }) });
    providers.push(provider);
    const api = createAuthFetch(provider as never, { allowInsecureRequests: true });
    await expect(api(`${rs.url}/x`)).rejects.toMatchObject({
      code: 'SLUICE_OAUTH_UNSUPPORTED_TOKEN',
    });
    expect(rs.requests).toHaveLength(0);
  });

  it.each([
    ['createAuthFetch.provider', () => createAuthFetch({} as never)],
    [
      'createAuthFetch.fetch',
      () =>
        createAuthFetch({ get: async () => 't', invalidate: () => false }, { fetch: 'x' as never }),
    ],
    [
      'createAuthFetch.allowInsecureRequests',
      () =>
        createAuthFetch(
          { get: async () => 't', invalidate: () => false },
          { allowInsecureRequests: 1 as never },
        ),
    ],
  ])('rejects a bad %s with InvalidOptionError', (option, build) => {
    expect(build).toThrow(expect.objectContaining({ code: 'SLUICE_INVALID_OPTION', option }));
  });
});

describe('providers', () => {
  it('works over one key of a keyed provider, invalidating only that key', async () => {
    const mint = clientCredentialsMint({
      issuer: as.issuer,
      clientId: as.basic.clientId,
      clientAuth: { method: 'client_secret_basic', clientSecret: as.basic.clientSecret },
      resource: API,
      allowInsecureRequests: true,
    });
    const keyed = createKeyedProvider<string, AccessToken>({
      mint: (_tenant, context) => mint(context),
    });
    try {
      const tenant = (key: string) =>
        createAuthFetch(
          {
            get: (options) => keyed.get(key, options),
            invalidate: (rejected: AccessToken) => keyed.invalidate(key, rejected),
          },
          { allowInsecureRequests: true },
        );
      const a = await keyed.get('tenant-a');
      const b = await keyed.get('tenant-b');
      rs.revoke(a.token);
      expect((await tenant('tenant-a')(`${rs.url}/a`)).status).toBe(200);
      expect((await keyed.get('tenant-a')).token).not.toBe(a.token);
      expect(await keyed.get('tenant-b')).toBe(b);
    } finally {
      keyed.close();
    }
  });
});

describe("the caller's signal", () => {
  it('goes to get(): aborting ends this wait, never the shared mint', async () => {
    const { provider, api, mints } = await harness({ provider: { lazy: true } });
    as.setTokenFault(undefined);
    const release = as.holdDiscovery(); // the first mint waits on discovery
    const controller = new AbortController();
    const reason = new Error('caller gave up');
    const aborted = api(`${rs.url}/x`, { signal: controller.signal });
    const other = api(`${rs.url}/y`);
    await until(() => mints.length === 1);
    controller.abort(reason);
    await expect(aborted).rejects.toBe(reason);
    release();
    await expect(other).resolves.toMatchObject({ status: 200 });
    expect(mints).toEqual(['initial']);
    expect(rs.requests.map((r) => r.path)).toEqual(['/y']);
    expect(provider.snapshot().status).toBe('fresh');
  });

  it('goes to the request: aborting while the server holds it rejects with the reason', async () => {
    const { api } = await harness();
    let arrived = false;
    rs.behave(
      () =>
        new Promise(() => {
          arrived = true; // never answers
        }),
    );
    const controller = new AbortController();
    const reason = new Error('request deadline');
    const pending = api(`${rs.url}/slow`, { signal: controller.signal });
    await until(() => arrived);
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
  });
});

describe('401 answers', () => {
  it('401 invalid_token: invalidates exactly that token and retries once with a new one', async () => {
    const { provider, api, mints } = await harness();
    const old = await provider.get();
    rs.revoke(old.token);
    const response = await api(`${rs.url}/x`);
    expect(response.status).toBe(200);
    expect(rs.requests.map((r) => r.token === old.token)).toEqual([true, false]);
    expect(mints).toEqual(['initial', 'invalidated']);
    expect((await provider.get()).token).toBe(rs.requests[1]?.token);
  });

  it('401 without an error parameter renews the token', async () => {
    const { api, mints } = await harness();
    firstAnswer({ status: 401, headers: { 'www-authenticate': 'Bearer realm="api"' } });
    expect((await api(`${rs.url}/x`)).status).toBe(200);
    expect(mints).toEqual(['initial', 'invalidated']);
    expect(rs.requests).toHaveLength(2);
  });

  it('401 without WWW-Authenticate renews the token', async () => {
    const { api, mints } = await harness();
    firstAnswer({ status: 401 });
    expect((await api(`${rs.url}/x`)).status).toBe(200);
    expect(mints).toEqual(['initial', 'invalidated']);
  });

  it("the retry's answer is final: a second 401 is returned and nothing more is sent", async () => {
    const { provider, api, mints } = await harness({ provider: { minRefreshIntervalMs: 0 } });
    rs.behave(() => refuse('Bearer', 'invalid_token'));
    const response = await api(`${rs.url}/x`);
    expect(response.status).toBe(401);
    expect(rs.requests).toHaveLength(2);
    expect(mints).toEqual(['initial', 'invalidated']);
    expect(provider.peek()).toBeUndefined(); // the refused retry token is dropped too
  });

  it('returns the 401 unretried when the guard refuses the invalidation and the same token comes back', async () => {
    const { api, mints, refused } = await harness();
    rs.behave(() => refuse('Bearer', 'invalid_token'));
    await api(`${rs.url}/first`); // initial token refused: invalidated, re-minted, retried once
    rs.requests.length = 0;
    const response = await api(`${rs.url}/second`);
    expect(response.status).toBe(401);
    expect(rs.requests).toHaveLength(1);
    expect(mints).toEqual(['initial', 'invalidated']);
    // Refused twice: for the first call's final answer, and for this call.
    expect(refused).toHaveLength(2);
    expect(refused[1]).toMatchObject({ name: 'api' });
    expect(refused[1]?.retryAfterMs).toBeGreaterThan(0);
  });

  it.each([
    [
      '401 error="invalid_request"',
      { status: 401, headers: { 'www-authenticate': 'Bearer error="invalid_request"' } },
    ],
    [
      '403 error="insufficient_scope"',
      {
        status: 403,
        headers: { 'www-authenticate': 'Bearer error="insufficient_scope", scope="api:admin"' },
      },
    ],
    ['404', { status: 404 }],
    ['500', { status: 500 }],
    ['503 with Retry-After', { status: 503, headers: { 'retry-after': '3' } }],
  ])('returns %s unchanged, with the token kept and nothing retried', async (_label, answer) => {
    const { provider, api, mints } = await harness();
    const token = await provider.get();
    rs.behave(() => ({ ...answer, body: 'answer body' }));
    const response = await api(`${rs.url}/x`);
    expect(response.status).toBe(answer.status);
    expect(await response.text()).toBe('answer body');
    expect(rs.requests).toHaveLength(1);
    expect(mints).toEqual(['initial']);
    expect(provider.peek()?.value).toBe(token);
  });

  it.each([
    ['no body', () => undefined, ''],
    ['a string', () => 'plain text', 'plain text'],
    ['URLSearchParams', () => new URLSearchParams({ a: '1', b: 'two' }), 'a=1&b=two'],
    ['an ArrayBuffer', () => new TextEncoder().encode('bytes!').buffer, 'bytes!'],
    ['a Uint8Array', () => new TextEncoder().encode('view'), 'view'],
    ['a Blob', () => new Blob(['blob body'], { type: 'text/plain' }), 'blob body'],
    ['FormData', () => formData(), undefined],
  ])('retries a request with %s, sending the same body twice', async (_label, body, expected) => {
    const { provider, api } = await harness();
    rs.revoke((await provider.get()).token);
    const init: RequestInit = { method: 'POST' };
    const value = body();
    if (value !== undefined) init.body = value;
    const response = await api(`${rs.url}/upload`, init);
    expect(response.status).toBe(200);
    expect(rs.requests).toHaveLength(2);
    const [first, second] = rs.requests.map((r) => ({
      ...r,
      body: r.body.replace(/-+formdata-[\w-]+/g, 'BOUNDARY'), // a new boundary per send
    }));
    expect(second?.body).toBe(first?.body);
    if (expected !== undefined) expect(first?.body).toBe(expected);
    else expect(first?.body).toContain('form value');
    expect(second?.contentType.split(';')[0]).toBe(first?.contentType.split(';')[0]);
  });

  it('does not retry a stream body, but still invalidates the refused token', async () => {
    const { provider, api, mints } = await harness();
    const old = await provider.get();
    rs.revoke(old.token);
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('streamed'));
        controller.close();
      },
    });
    const response = await api(`${rs.url}/stream`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(401);
    expect(rs.requests).toHaveLength(1);
    expect(rs.requests[0]?.body).toBe('streamed');
    expect(provider.peek()).toBeUndefined(); // dropped: the next call mints
    expect((await api(`${rs.url}/next`)).status).toBe(200);
    expect(mints).toEqual(['initial', 'invalidated']);
  });

  it("does not retry a Request's own body (a stream), and retries a Request without one", async () => {
    const { provider, api } = await harness({ provider: { minRefreshIntervalMs: 0 } });
    rs.revoke((await provider.get()).token);
    const withBody = await api(new Request(`${rs.url}/a`, { method: 'POST', body: 'once' }));
    expect(withBody.status).toBe(401);
    expect(rs.requests).toHaveLength(1);
    rs.revoke((await provider.get()).token);
    const withoutBody = await api(new Request(`${rs.url}/b`));
    expect(withoutBody.status).toBe(200);
    expect(rs.requests).toHaveLength(3);
  });

  it("rejects with the mint's own error when the token cannot be renewed", async () => {
    const { provider, api } = await harness();
    rs.revoke((await provider.get()).token);
    as.setTokenFault({ status: 503 });
    const error = await api(`${rs.url}/x`).catch((caught: unknown) => caught);
    expect(isOAuthError(error, 'SLUICE_OAUTH_TOKEN_ENDPOINT')).toBe(true);
    expect(error).toMatchObject({ status: 503, transient: true });
    expect(rs.requests).toHaveLength(1);
  });
});

describe('DPoP nonces of the resource server', () => {
  it('use_dpop_nonce: resends once with the same token and a proof carrying the nonce', async () => {
    const { api, mints } = await harness({ dpop: true });
    rs.requireNonce(true);
    const nonce = rs.rotateNonce();
    const response = await api(`${rs.url}/x`);
    expect(response.status).toBe(200);
    expect(rs.requests).toHaveLength(2);
    const [first, second] = rs.requests;
    expect(second?.token).toBe(first?.token);
    expect(first?.proofClaims?.nonce).toBeUndefined();
    expect(second?.proofClaims?.nonce).toBe(nonce);
    expect(mints).toEqual(['initial']);
  });

  it("remembers the resource server's nonce for the next request", async () => {
    const { api } = await harness({ dpop: true });
    rs.requireNonce(true);
    rs.rotateNonce();
    await api(`${rs.url}/x`);
    rs.requests.length = 0;
    expect((await api(`${rs.url}/y`)).status).toBe(200);
    expect(rs.requests).toHaveLength(1);
  });

  it('a renewal then a nonce demand: the new token is resent once with the nonce', async () => {
    const { provider, api, mints } = await harness({ dpop: true });
    const old = await provider.get();
    rs.revoke(old.token);
    rs.requireNonce(true);
    rs.rotateNonce();
    let first = true;
    rs.behave((_request, validate) => {
      if (!first) return validate();
      first = false;
      return refuse('DPoP', 'invalid_token'); // refused before the nonce was asked for
    });
    const response = await api(`${rs.url}/x`);
    expect(response.status).toBe(200);
    expect(rs.requests.map((r) => r.token === old.token)).toEqual([true, false, false]);
    expect(mints).toEqual(['initial', 'invalidated']);
  });

  it('uses a nonce the resource server sends on a 200 for the next request', async () => {
    const { api } = await harness({ dpop: true });
    rs.requireNonce(true);
    rs.rotateNonce();
    let next = '';
    rs.behave(async (_request, validate) => {
      const answer = await validate();
      if (answer.status !== 200) return answer;
      next = rs.rotateNonce(); // a fresh nonce with every success
      return { ...answer, headers: { ...answer.headers, 'dpop-nonce': next } };
    });
    await api(`${rs.url}/x`); // nonce demanded, resent, 200 with the next nonce
    const sent = next;
    rs.requests.length = 0;
    expect((await api(`${rs.url}/y`)).status).toBe(200);
    expect(rs.requests).toHaveLength(1);
    expect(rs.requests[0]?.proofClaims?.nonce).toBe(sent);
  });

  it('does not resend a stream body for a nonce, and remembers the nonce for the next call', async () => {
    const { api, mints } = await harness({ dpop: true });
    rs.requireNonce(true);
    const nonce = rs.rotateNonce();
    const stream = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode('once'));
        controller.close();
      },
    });
    const response = await api(`${rs.url}/s`, {
      method: 'POST',
      body: stream,
      duplex: 'half',
    } as RequestInit);
    expect(response.status).toBe(401);
    expect(rs.requests).toHaveLength(1);
    expect((await api(`${rs.url}/t`)).status).toBe(200);
    expect(rs.requests[1]?.proofClaims?.nonce).toBe(nonce);
    expect(mints).toEqual(['initial']);
  });

  it('returns a second use_dpop_nonce answer: one resend only', async () => {
    const { api, mints } = await harness({ dpop: true });
    let n = 0;
    rs.behave(() => ({
      status: 401,
      headers: {
        'www-authenticate': 'DPoP error="use_dpop_nonce"',
        'dpop-nonce': `always-new-${++n}`,
      },
    }));
    const response = await api(`${rs.url}/x`);
    expect(response.status).toBe(401);
    expect(rs.requests).toHaveLength(2);
    expect(mints).toEqual(['initial']);
  });

  it('a nonce resend and a renewal in one call: at most three requests', async () => {
    const { provider, api, mints } = await harness({ dpop: true });
    const old = await provider.get();
    rs.requireNonce(true);
    rs.rotateNonce();
    rs.revoke(old.token);
    const response = await api(`${rs.url}/x`);
    expect(response.status).toBe(200);
    expect(rs.requests.map((r) => r.token === old.token)).toEqual([true, true, false]);
    expect(mints).toEqual(['initial', 'invalidated']);
    expect(claimsOf(rs.requests[2]?.token ?? '').cnf).toEqual(claimsOf(old.token).cnf);
  });
});

function formData(): FormData {
  const form = new FormData();
  form.set('field', 'form value');
  return form;
}

describe('issue 14: redirects across origins', () => {
  let foreign: ResourceServer;

  beforeAll(async () => {
    foreign = await startResourceServer(as.issuer, API); // another port: another origin
  });

  afterAll(async () => {
    await foreign?.close();
  });

  afterEach(() => {
    foreign.behave(undefined);
    foreign.requests.length = 0;
  });

  const redirectFirst = (status: number, to: string) => {
    let answered = false;
    rs.behave((_request, validate) => {
      if (answered) return validate();
      answered = true;
      return { status, headers: { location: to } };
    });
  };

  it('a 401 from another origin after a cross-origin redirect never invalidates our token', async () => {
    const { provider, api, mints } = await harness();
    const token = (await provider.get()).token;
    redirectFirst(302, `${foreign.url}/landing`);
    foreign.behave(() => refuse('Bearer', 'invalid_token'));
    const response = await api(`${rs.url}/start`);
    expect(response.status).toBe(401);
    expect(foreign.requests).toHaveLength(1);
    expect(foreign.requests[0]).toMatchObject({ authorization: '', proof: '' });
    expect(rs.requests).toHaveLength(1);
    expect(mints).toEqual(['initial']);
    expect((await provider.get()).token).toBe(token);
  });

  it('the DPoP proof never follows a cross-origin redirect either', async () => {
    const { api, mints } = await harness({ dpop: true });
    redirectFirst(307, `${foreign.url}/landing`);
    foreign.behave(() => ({ status: 200, body: 'foreign' }));
    const response = await api(`${rs.url}/start`, { method: 'POST', body: 'payload' });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe('foreign');
    expect(foreign.requests[0]).toMatchObject({
      method: 'POST',
      body: 'payload',
      authorization: '',
      proof: '',
    });
    expect(mints).toEqual(['initial']);
  });

  it('a same-origin redirect carries the token, with a fresh DPoP proof for the new URL', async () => {
    const { api } = await harness({ dpop: true });
    redirectFirst(302, '/moved');
    const response = await api(`${rs.url}/start`);
    expect(response.status).toBe(200); // the resource server checked htu against /moved
    expect(rs.requests.map((r) => [r.path, r.proofClaims?.htu])).toEqual([
      ['/start', `${rs.url}/start`],
      ['/moved', `${rs.url}/moved`],
    ]);
  });

  it('a 401 after a same-origin redirect still renews the token', async () => {
    const { api, mints } = await harness();
    let n = 0;
    rs.behave((_request, validate) => {
      n += 1;
      if (n === 1) return { status: 302, headers: { location: '/moved' } };
      if (n === 2) return refuse('Bearer', 'invalid_token');
      return validate();
    });
    expect((await api(`${rs.url}/start`)).status).toBe(200);
    expect(mints).toEqual(['initial', 'invalidated']);
  });

  it("keeps the caller's redirect: 'manual' as given", async () => {
    const { api } = await harness();
    redirectFirst(302, `${foreign.url}/landing`);
    const response = await api(`${rs.url}/start`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    expect(foreign.requests).toHaveLength(0);
  });
});

describe('issue 14: where tokens go', () => {
  it('allowedOrigins: a request elsewhere is refused with a typed error before any token is minted', async () => {
    const { provider, mints } = await harness({ provider: { lazy: true } });
    const api = createAuthFetch(provider, {
      allowInsecureRequests: true,
      allowedOrigins: ['https://api.example.com', new URL(rs.url)],
    });
    const error = await api('http://127.0.0.1:1/steal?x=1').catch((caught: unknown) => caught);
    expect(isOAuthError(error, 'SLUICE_OAUTH_ORIGIN_NOT_ALLOWED')).toBe(true);
    expect(error).toMatchObject({ origin: 'http://127.0.0.1:1' });
    expect(mints).toEqual([]);
    expect((await api(`${rs.url}/ok`)).status).toBe(200);
  });

  it.each([
    [['https://api.example.com/v1']],
    [['not a url']],
    [['ftp://files.example.com']],
    [['https://user:pw@api.example.com']],
    [[]],
    ['https://api.example.com'],
  ])('refuses allowedOrigins %j with InvalidOptionError', (allowedOrigins) => {
    expect(() =>
      createAuthFetch(
        { get: async () => 't', invalidate: () => false },
        { allowedOrigins: allowedOrigins as never },
      ),
    ).toThrow(expect.objectContaining({ code: 'SLUICE_INVALID_OPTION' }));
  });

  it.each([
    'data:text/plain,hello',
    'file:///etc/passwd',
    'blob:https://x.example/1',
    'ftp://files.example.com/x',
  ])('refuses %s before minting, even with allowInsecureRequests', async (url) => {
    const { provider, mints } = await harness({ provider: { lazy: true } });
    const api = createAuthFetch(provider, { allowInsecureRequests: true });
    const error = await api(url).catch((caught: unknown) => caught);
    expect(isOAuthError(error, 'SLUICE_OAUTH_INSECURE_REQUEST')).toBe(true);
    expect(mints).toEqual([]);
  });
});

describe('issue 14: no rejection carries the token', () => {
  it('refuses an unpresentable token from your own mint with UnsupportedTokenError, every call, never showing it', async () => {
    const token = 'own-token-0123456789\nX-Injected: 1';
    const provider = await createRefreshingProvider<string>({ mint: () => ({ value: token }) });
    providers.push(provider as RefreshingProvider<unknown>);
    const api = createAuthFetch(provider, { allowInsecureRequests: true });
    const errors = await Promise.all(
      Array.from({ length: 50 }, () => api(`${rs.url}/x`).catch((caught: unknown) => caught)),
    );
    for (const error of errors) {
      expect(isOAuthError(error, 'SLUICE_OAUTH_UNSUPPORTED_TOKEN')).toBe(true);
      expect(leaksOf(renderings(error), token)).toEqual([]);
    }
    expect(rs.requests).toHaveLength(0);
  });

  it("refuses a redacted JSON copy of an AccessToken (a replica's '[redacted]') instead of sending it", async () => {
    const copy = JSON.parse(
      JSON.stringify(new AccessToken({ token: 'real', tokenType: 'Bearer' })),
    );
    const provider = await createRefreshingProvider<unknown>({ mint: () => ({ value: copy }) });
    providers.push(provider);
    const api = createAuthFetch(provider as never, { allowInsecureRequests: true });
    const error = await api(`${rs.url}/x`).catch((caught: unknown) => caught);
    expect(isOAuthError(error, 'SLUICE_OAUTH_UNSUPPORTED_TOKEN')).toBe(true);
    expect((error as Error).message).toMatch(/redacted token/);
    expect(rs.requests).toHaveLength(0);
  });

  it('replaces a fetch error that quotes the token by one that does not', async () => {
    const { provider } = await harness();
    const token = (await provider.get()).token;
    const api = createAuthFetch(provider, {
      allowInsecureRequests: true,
      fetch: async (_input, init) => {
        const sent = new Headers(init?.headers).get('authorization');
        throw new TypeError(`Headers.set: "${sent}" is an invalid header value`);
      },
    });
    const error = await api(`${rs.url}/x`).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(TypeError);
    expect(leaksOf(renderings(error), token)).toEqual([]);
  });

  it("api(new Request(u, { method: 'POST', body: 'x' }), { body: null }) returns the 401 instead of throwing", async () => {
    const { api, mints } = await harness();
    rs.behave(() => refuse('Bearer', 'invalid_token'));
    const response = await api(new Request(`${rs.url}/x`, { method: 'POST', body: 'x' }), {
      body: null,
    });
    expect(response.status).toBe(401);
    expect(rs.requests).toHaveLength(1);
    expect(rs.requests[0]?.body).toBe('x');
    expect(mints).toEqual(['initial']); // invalidated, not retried: the stream is gone
  });
});
