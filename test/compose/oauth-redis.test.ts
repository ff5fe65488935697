/**
 * @sluice/oauth behind @sluice/redis, the first pair users combine: four replicas (four
 * coordinators, each with its own ioredis client) on one real redis-server, minting from a
 * real oidc-provider and presenting the token to a resource server that validates it
 * (signature, audience, expiry, and for DPoP the proof against the token's `cnf.jkt`).
 *
 * Issue 14, section 1: adopted tokens were `{ token: '[redacted]' }` (the JSON codec stored
 * `AccessToken.toJSON()`), so adopting replicas answered 401 forever and the issuer saw
 * extra requests; DPoP-bound tokens were adopted by replicas that cannot present them.
 */

import { randomBytes } from 'node:crypto';
import {
  createKeyedProvider,
  createRefreshingProvider,
  mintTraitsOf,
  type RefreshingProvider,
  withMintTraits,
} from '@sluice/core';
import {
  type AccessToken,
  accessTokenCodec,
  clientCredentialsMint,
  createAuthFetch,
  refreshTokenMint,
  type TokenEndpointOptions,
} from '@sluice/oauth';
import { REFRESH_SPAN_NAME, traceMint } from '@sluice/opentelemetry';
import {
  createRedisCoordinator,
  type EncryptionOptions,
  type FleetCoordinator,
} from '@sluice/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  API,
  type AuthorizationServer,
  startAuthorizationServer,
} from '../../packages/oauth/test/support/authorization-server.js';
import {
  type Answer,
  type ResourceServer,
  startResourceServer,
} from '../../packages/oauth/test/support/resource-server.js';
import { json, startTokenEndpoint } from '../../packages/oauth/test/support/token-endpoint.js';
import { createTracing } from '../../packages/opentelemetry/test/support/otel.js';
import {
  type RedisServer,
  redisAvailable,
  startRedisServer,
} from '../../packages/redis/test/support/redis-server.js';

let redis: RedisServer;
let as: AuthorizationServer;
let rs: ResourceServer;
const closers: Array<() => unknown> = [];
let prefixes = 0;

const encryption: EncryptionOptions = { keys: [{ id: 'k1', key: randomBytes(32) }] };

describe.skipIf(!redisAvailable())('oauth x redis', () => {
  beforeAll(async () => {
    // Stopped by PID in afterAll, whatever happened in between.
    redis = await startRedisServer();
    as = await startAuthorizationServer({ accessTokenTtlSeconds: 300 });
    rs = await startResourceServer(as.issuer, API);
  });

  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
    rs.behave(undefined);
    rs.requests.length = 0;
  });

  afterAll(async () => {
    await Promise.allSettled([rs?.close(), as?.close()]);
    await redis?.stop();
  });

  async function coordinator(
    keyPrefix: string,
    withEncryption: boolean,
  ): Promise<FleetCoordinator> {
    const fleet = createRedisCoordinator({
      redis: redis.client(),
      keyPrefix,
      ...(withEncryption ? { encryption } : {}),
    });
    closers.push(() => fleet.close());
    return fleet;
  }

  function mintOptions(client: { clientId: string; clientSecret: string }) {
    return {
      issuer: as.issuer,
      clientId: client.clientId,
      clientAuth: { method: 'client_secret_basic', clientSecret: client.clientSecret },
      resource: API,
      allowInsecureRequests: true,
    } satisfies TokenEndpointOptions;
  }

  /** One replica: its own coordinator (own ioredis client), its own mint and provider. */
  async function replica(keyPrefix: string, withEncryption: boolean) {
    const fleet = await coordinator(keyPrefix, withEncryption);
    const provider = await createRefreshingProvider<AccessToken>({
      name: 'billing-api',
      mint: fleet.wrap('billing-api', clientCredentialsMint(mintOptions(as.basic))),
    });
    closers.push(() => provider.close());
    return { provider, api: createAuthFetch(provider, { allowInsecureRequests: true }) };
  }

  for (const withEncryption of [false, true]) {
    const mode = withEncryption ? 'with encryption' : 'in plaintext';
    it(`four replicas on one Redis (${mode}) each present the real token, the resource server accepts every call, and the issuer sees exactly one token request`, async () => {
      const keyPrefix = `oauth-redis-${++prefixes}:`;
      const requestsBefore = as.tokenRequests();
      const issuedBefore = as.issued(as.basic.clientId);
      // Replicas boot at once (a boot herd): one mints, three adopt from Redis.
      const replicas = await Promise.all(
        [1, 2, 3, 4].map(() => replica(keyPrefix, withEncryption)),
      );

      const statuses: number[] = [];
      for (const { api } of replicas) {
        for (let call = 0; call < 3; call++) {
          const response = await api(`${rs.url}/invoices`);
          await response.body?.cancel();
          statuses.push(response.status);
        }
      }
      expect(statuses).toEqual(Array(12).fill(200));
      const presented = new Set(rs.requests.map((request) => request.token));
      expect(presented.size).toBe(1);
      const [token] = presented;
      expect(token).not.toContain('redacted');
      for (const { provider } of replicas) {
        const access = await provider.get();
        expect(access.token).toBe(token);
        expect(access.tokenType).toBe('Bearer');
      }
      expect(as.tokenRequests() - requestsBefore).toBe(1);
      expect(as.issued(as.basic.clientId) - issuedBefore).toBe(1);
    });
  }

  it('a token revoked at the resource server is replaced once for the whole fleet: every replica recovers with one retry and the issuer sees one more token request', async () => {
    const keyPrefix = `oauth-redis-${++prefixes}:`;
    const replicas = await Promise.all([1, 2, 3].map(() => replica(keyPrefix, true)));
    const revoked = (await replicas[0]?.provider.get())?.token as string;
    const before = as.tokenRequests();
    rs.revoke(revoked);
    for (const { api } of replicas) {
      const response = await api(`${rs.url}/after-revocation`);
      await response.body?.cancel();
      expect(response.status).toBe(200);
    }
    expect(as.tokenRequests() - before).toBe(1);
    const presented = rs.requests.filter((r) => r.path === '/after-revocation').map((r) => r.token);
    // Each replica: one refused request with the old token, one accepted with the new one.
    expect(presented.filter((token) => token === revoked)).toHaveLength(3);
    expect(new Set(presented.filter((token) => token !== revoked)).size).toBe(1);
  });

  it('refresh-token rotation across a fleet: with the refresh token kept in Redis (loader and onRotation), whichever replica mints next presents the current one and the server never sees a stale one', async () => {
    const keyPrefix = `oauth-redis-${++prefixes}:`;
    const endpoint = await startTokenEndpoint();
    closers.push(() => endpoint.close());
    let current = 'rt-0';
    let serial = 0;
    const refused: string[] = [];
    endpoint.script((request) => {
      const presented = request.form.get('refresh_token') ?? '';
      if (presented !== current) {
        refused.push(presented);
        return json(400, { error: 'invalid_grant' });
      }
      serial += 1;
      current = `rt-${serial}`;
      return json(200, {
        access_token: `at-${serial}`,
        token_type: 'Bearer',
        expires_in: 3600,
        refresh_token: current,
      });
    });
    const shared = redis.client();
    const rtKey = `${keyPrefix}refresh-token`;
    await shared.set(rtKey, current);
    const replicaWithRotation = async () => {
      const fleet = await coordinator(keyPrefix, true);
      const provider = await createRefreshingProvider<AccessToken>({
        name: 'rotating',
        minRefreshIntervalMs: 0, // the test invalidates tokens minted a moment ago
        mint: fleet.wrap(
          'rotating',
          refreshTokenMint({
            authorizationServer: endpoint.metadata,
            clientId: 'rotating-client',
            clientAuth: { method: 'client_secret_basic', clientSecret: 'rotating-secret' },
            allowInsecureRequests: true,
            refreshToken: async () => (await shared.get(rtKey)) ?? '',
            onRotation: async (next) => {
              await shared.set(rtKey, next);
            },
          }),
        ),
      });
      closers.push(() => provider.close());
      return provider;
    };
    const a = await replicaWithRotation();
    const b = await replicaWithRotation(); // adopts a's token: no request
    expect((await b.get()).token).toBe('at-1');
    expect(endpoint.requests).toHaveLength(1);
    b.invalidate(await b.get()); // a 401 at b: b mints with the refresh token a rotated
    expect((await b.get()).token).toBe('at-2');
    a.invalidate(await a.get()); // a drops at-1 and adopts b's at-2: no request
    expect((await a.get()).token).toBe('at-2');
    expect(endpoint.requests).toHaveLength(2);
    a.invalidate(await a.get()); // a 401 at a for at-2: a mints with the refresh token b rotated
    expect((await a.get()).token).toBe('at-3');
    expect(refused).toEqual([]);
    expect(endpoint.requests).toHaveLength(3);
  });

  it('a keyed OAuth mint behind wrapKeyed: with accessTokenCodec each tenant costs one token request for the fleet; without it the redacted view is never stored (reported) and every replica still presents a real token', async () => {
    for (const withCodec of [true, false]) {
      const keyPrefix = `oauth-redis-${++prefixes}:`;
      const storeErrors: string[] = [];
      const before = as.tokenRequests();
      const tenants = ['tenant-a', 'tenant-b'];
      const replicas = [];
      for (let i = 0; i < 2; i++) {
        const fleet = createRedisCoordinator({
          redis: redis.client(),
          keyPrefix,
          encryption,
          reporter: { onStoreError: (event) => storeErrors.push(String(event.operation)) },
        });
        closers.push(() => fleet.close());
        const mint = clientCredentialsMint(mintOptions(as.basic));
        // A keyed mint written by hand: a new function, so it carries no traits of its own.
        const keyedMint = (_tenant: string, context: Parameters<typeof mint>[0]) => mint(context);
        const provider = createKeyedProvider<string, AccessToken>({
          name: 'tenants',
          mint: fleet.wrapKeyed('tenants', keyedMint, withCodec ? { codec: accessTokenCodec } : {}),
        });
        closers.push(() => provider.close());
        replicas.push(provider);
      }
      for (const provider of replicas) {
        for (const tenant of tenants) {
          const access = await provider.get(tenant);
          const response = await fetch(`${rs.url}/${tenant}`, {
            headers: { authorization: `Bearer ${access.token}` },
          });
          await response.body?.cancel();
          expect(response.status, `${tenant} (codec: ${withCodec})`).toBe(200);
        }
      }
      if (withCodec) {
        expect(as.tokenRequests() - before).toBe(tenants.length);
        expect(storeErrors).toEqual([]);
      } else {
        expect(as.tokenRequests() - before).toBe(tenants.length * replicas.length);
        expect(storeErrors.length).toBeGreaterThan(0);
      }
    }
  });

  it('a traced OAuth mint (traceMint, oauth x opentelemetry x redis) behind wrap() is still stored with its codec: two replicas present the same real token, one token request', async () => {
    const keyPrefix = `oauth-redis-${++prefixes}:`;
    const { tracerProvider, spans } = createTracing();
    const before = as.tokenRequests();
    const apis = [];
    for (let i = 0; i < 2; i++) {
      const fleet = await coordinator(keyPrefix, true);
      const provider = await createRefreshingProvider<AccessToken>({
        name: 'billing-api',
        mint: fleet.wrap(
          'billing-api',
          traceMint(clientCredentialsMint(mintOptions(as.basic)), {
            name: 'billing-api',
            tracerProvider,
          }),
        ),
      });
      closers.push(() => provider.close());
      apis.push(createAuthFetch(provider, { allowInsecureRequests: true }));
    }
    for (const api of apis) expect((await api(`${rs.url}/traced`)).status).toBe(200);
    expect(new Set(rs.requests.map((request) => request.token)).size).toBe(1);
    expect(as.tokenRequests() - before).toBe(1);
    expect(spans(REFRESH_SPAN_NAME)).toHaveLength(1); // only the leader minted
  });

  it('a traced DPoP mint is refused by wrap() like an untraced one', async () => {
    const fleet = await coordinator(`oauth-redis-${++prefixes}:`, false);
    const { tracerProvider } = createTracing();
    const traced = traceMint(clientCredentialsMint({ ...mintOptions(as.dpop), dpop: true }), {
      tracerProvider,
    });
    expect(() => fleet.wrap('dpop-api', traced)).toThrow(/DPoP/);
  });

  it('an OAuth mint advertises a codec, so wrap() needs no option to store the real token', () => {
    const mint = clientCredentialsMint(mintOptions(as.basic));
    expect(mintTraitsOf(mint)?.codec).toBeDefined();
    expect(mintTraitsOf(mint)?.unshareable).toBeUndefined();
  });

  describe('DPoP-bound tokens', () => {
    const dpopOptions = () => ({ ...mintOptions(as.dpop), dpop: true });

    it('a DPoP mint advertises why its tokens cannot be shared', () => {
      const reason = mintTraitsOf(clientCredentialsMint(dpopOptions()))?.unshareable;
      expect(reason).toMatch(/DPoP/);
    });

    it('wrap() refuses a DPoP mint at once with an error naming why (bound to a key only this process holds)', async () => {
      const fleet = await coordinator(`oauth-redis-${++prefixes}:`, true);
      const refusal = catchSync(() => fleet.wrap('dpop-api', clientCredentialsMint(dpopOptions())));
      expect(refusal).toBeInstanceOf(Error);
      expect((refusal as { code?: string }).code).toBe('SLUICE_FLEET_UNSHAREABLE_MINT');
      expect((refusal as Error).message).toMatch(/DPoP/);
      expect((refusal as Error).message).toMatch(/key/i);
      // A codec passed by hand does not make the token presentable elsewhere.
      const withCodec = catchSync(() =>
        fleet.wrap('dpop-api', clientCredentialsMint(dpopOptions()), {
          codec: { encode: () => '{}', decode: () => ({}) as AccessToken },
        }),
      );
      expect((withCodec as Error | undefined)?.message).toMatch(/DPoP/);
    });

    it('no replica ever presents a DPoP token it did not mint itself: every proof matches the token cnf.jkt at a verifying resource server', async () => {
      const keyPrefix = `oauth-redis-${++prefixes}:`;
      const fleet = await coordinator(keyPrefix, true);
      expect(() => fleet.wrap('dpop-api', clientCredentialsMint(dpopOptions()))).toThrow(/DPoP/);

      // What users do instead: each replica keeps its own DPoP mint (and key pair).
      const answers: Answer[] = [];
      rs.behave(async (_request, validate) => {
        const answer = await validate();
        answers.push(answer);
        return answer;
      });
      const providers: RefreshingProvider<AccessToken>[] = [];
      for (let i = 0; i < 2; i++) {
        const provider = await createRefreshingProvider<AccessToken>({
          name: 'dpop-api',
          mint: clientCredentialsMint(dpopOptions()),
        });
        closers.push(() => provider.close());
        providers.push(provider);
      }
      const boundTo: string[] = [];
      for (const provider of providers) {
        const api = createAuthFetch(provider, { allowInsecureRequests: true });
        const response = await api(`${rs.url}/dpop`);
        expect(response.status).toBe(200);
        boundTo.push(((await response.json()) as { boundTo: string }).boundTo);
      }
      expect(answers.map((a) => a.status)).toEqual([200, 200]);
      expect(new Set(boundTo).size).toBe(2); // two key pairs, two bindings
      for (const request of rs.requests) expect(request.scheme).toBe('dpop');
    });

    it('a keyed DPoP mint behind wrapKeyed is refused too when it carries its traits', async () => {
      const fleet = await coordinator(`oauth-redis-${++prefixes}:`, false);
      const inner = clientCredentialsMint(dpopOptions());
      const keyedMint = (_tenant: string, context: Parameters<typeof inner>[0]) => inner(context);
      const traits = mintTraitsOf<AccessToken>(inner);
      expect(traits?.unshareable).toBeDefined();
      // A keyed mint built from a DPoP mint passes its traits on, and is refused the same way.
      const refusal = catchSync(() =>
        fleet.wrapKeyed('dpop-tenants', withMintTraits(keyedMint, traits ?? {})),
      );
      expect((refusal as Error | undefined)?.message).toMatch(/DPoP/);
    });
  });
});

function catchSync(run: () => unknown): unknown {
  try {
    run();
    return undefined;
  } catch (error) {
    return error;
  }
}
