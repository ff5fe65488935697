/**
 * A protected resource on `node:http` for the `createAuthFetch` tests. By default it validates
 * the JWT access tokens of the test authorization server with oauth4webapi's resource-server
 * side (`validateJwtAccessToken`: signature, issuer, audience, expiry, and for DPoP-bound
 * tokens the proof: method, URL, token hash, key thumbprint), enforces its own DPoP nonce,
 * and answers each `WWW-Authenticate` variant a test asks for. Every request is recorded.
 */

import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as oauth from 'oauth4webapi';

/** A request as the server saw it. */
export interface SeenRequest {
  readonly method: string;
  readonly path: string;
  /** The `Authorization` header, or `''`. */
  readonly authorization: string;
  /** `'bearer'`, `'dpop'` or `''`. */
  readonly scheme: string;
  /** The token presented, or `''`. */
  readonly token: string;
  /** The `DPoP` proof header, or `''`. */
  readonly proof: string;
  /** The decoded payload of the proof, when there is one. */
  readonly proofClaims: Record<string, unknown> | undefined;
  readonly contentType: string;
  readonly body: string;
}

/** An answer a behaviour gives. */
export interface Answer {
  readonly status: number;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

/** Decides the answer; `validate()` runs the default token validation and returns its answer. */
export type Behaviour = (
  request: SeenRequest,
  validate: () => Promise<Answer>,
) => Answer | Promise<Answer>;

/** A running resource server. */
export interface ResourceServer {
  /** Base URL, e.g. `http://127.0.0.1:40000`. */
  readonly url: string;
  /** Every request so far, in arrival order. */
  readonly requests: SeenRequest[];
  /** Replaces the behaviour (`undefined`: validate). */
  behave(behaviour: Behaviour | undefined): void;
  /** Rejects this token from now on with `invalid_token`, as if revoked at the issuer. */
  revoke(token: string): void;
  /** Require the server's own DPoP nonce in proofs (off by default). */
  requireNonce(on: boolean): void;
  /** Issues a new nonce (the old one gets `use_dpop_nonce`). */
  rotateNonce(): string;
  close(): Promise<void>;
}

/** Starts the server for tokens with audience `audience` issued by `issuer`. */
export async function startResourceServer(
  issuer: string,
  audience: string,
): Promise<ResourceServer> {
  const issuerUrl = new URL(issuer);
  const as = await oauth.processDiscoveryResponse(
    issuerUrl,
    await oauth.discoveryRequest(issuerUrl, { [oauth.allowInsecureRequests]: true }),
  );
  const requests: SeenRequest[] = [];
  const revoked = new Set<string>();
  let behaviour: Behaviour | undefined;
  let nonceRequired = false;
  let nonceCounter = 0;
  let nonce = `rs-nonce-${nonceCounter}`;
  let origin = '';

  const validate = async (request: SeenRequest): Promise<Answer> => {
    const scheme = request.scheme === 'dpop' ? 'DPoP' : 'Bearer';
    if (request.token === '')
      return { status: 401, headers: { 'www-authenticate': `${scheme} realm="test"` } };
    // The proof is checked before the token, as DPoP authentication does.
    if (request.scheme === 'dpop' && nonceRequired && request.proofClaims?.nonce !== nonce) {
      return {
        status: 401,
        headers: {
          'www-authenticate':
            'DPoP error="use_dpop_nonce", error_description="Resource server requires nonce in DPoP proof"',
          'dpop-nonce': nonce,
        },
      };
    }
    if (revoked.has(request.token)) return refuse(scheme, 'invalid_token', 'revoked');
    const headers = new Headers({ authorization: request.authorization });
    if (request.proof !== '') headers.set('dpop', request.proof);
    try {
      const claims = await oauth.validateJwtAccessToken(
        as,
        new Request(`${origin}${request.path}`, { method: request.method, headers }),
        audience,
        { [oauth.allowInsecureRequests]: true },
      );
      return {
        status: 200,
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          method: request.method,
          path: request.path,
          body: request.body,
          contentType: request.contentType,
          jti: claims.jti,
          boundTo: (claims.cnf as { jkt?: string } | undefined)?.jkt ?? null,
        }),
      };
    } catch (error) {
      return refuse(scheme, 'invalid_token', (error as Error).message);
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const authorization = req.headers.authorization ?? '';
      const match = /^(\S+)\s+(.+)$/.exec(authorization);
      const proof = typeof req.headers.dpop === 'string' ? req.headers.dpop : '';
      const request: SeenRequest = {
        method: req.method ?? 'GET',
        path: req.url ?? '/',
        authorization,
        scheme: match?.[1]?.toLowerCase() ?? '',
        token: match?.[2] ?? '',
        proof,
        proofClaims: decodePayload(proof),
        contentType: req.headers['content-type'] ?? '',
        body: Buffer.concat(chunks).toString('utf8'),
      };
      requests.push(request);
      Promise.resolve()
        .then(() =>
          behaviour === undefined ? validate(request) : behaviour(request, () => validate(request)),
        )
        .then(
          (answer) => {
            res.writeHead(answer.status, answer.headers);
            res.end(answer.body ?? '');
          },
          (error: unknown) => {
            res.writeHead(500, { 'content-type': 'text/plain' });
            res.end(String(error));
          },
        );
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://127.0.0.1:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: origin,
    requests,
    behave(next) {
      behaviour = next;
    },
    revoke(token) {
      revoked.add(token);
    },
    requireNonce(on) {
      nonceRequired = on;
    },
    rotateNonce() {
      nonceCounter += 1;
      nonce = `rs-nonce-${nonceCounter}`;
      return nonce;
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}

/** A 401 with the given challenge. */
export function refuse(scheme: string, error: string, description?: string): Answer {
  const detail =
    description === undefined ? '' : `, error_description="${description.replace(/["\\]/g, '')}"`;
  return { status: 401, headers: { 'www-authenticate': `${scheme} error="${error}"${detail}` } };
}

function decodePayload(jwt: string): Record<string, unknown> | undefined {
  const payload = jwt.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as Record<
      string,
      unknown
    >;
  } catch {
    return undefined;
  }
}
