/**
 * Redaction of server-supplied text (an `error_description`) before it goes into an error:
 * a careless server may echo the request back, and the request carried secrets.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * Anything shaped like a compact JWS or JWE, or a piece of one (a token, an assertion, a
 * DPoP proof, even cut short): base64url JSON starting `{"`, with or without dots.
 */
const JWT_LIKE = /eyJ[\w-]*(?:\.[\w-]*)*/g;
/** Control characters: kept out of messages that end up in logs. */
// biome-ignore lint/suspicious/noControlCharactersInRegex: stripping them is the point
const CONTROL = /[\u0000-\u001f\u007f]+/g;
/** Secrets shorter than this are not looked for: replacing every "a" mangles the text. */
const MIN_SECRET_LENGTH = 4;

/**
 * Returns `text` with every occurrence of a secret (as sent, URL-encoded or form-encoded) and
 * anything shaped like a JWT replaced by `[redacted]`, control characters turned into spaces,
 * and the result cut to `maxLength` characters (after redaction, so no secret is left half
 * cut). Pure.
 */
export function redactText(text: string, secrets: Iterable<string>, maxLength = 200): string {
  const variants = new Set<string>();
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    variants.add(secret);
    variants.add(encodeURIComponent(secret));
    variants.add(new URLSearchParams({ s: secret }).toString().slice(2));
  }
  let result = text;
  // Longest first, so a secret containing another is replaced whole.
  for (const variant of [...variants].sort((a, b) => b.length - a.length)) {
    result = result.split(variant).join(REDACTED);
  }
  result = result.replace(JWT_LIKE, REDACTED).replace(CONTROL, ' ');
  return result.length > maxLength ? `${result.slice(0, maxLength - 1)}…` : result;
}

/** Form parameters whose values are secrets (RFC 6749, 7523, 8693). */
const SECRET_PARAMETERS: readonly string[] = [
  'client_secret',
  'client_assertion',
  'refresh_token',
  'subject_token',
  'actor_token',
  'assertion',
  'code',
  'code_verifier',
  'device_code',
  'password',
];

/**
 * Collects the secrets a token request carries: the values of secret form parameters, the
 * `Authorization` header (whole, its credentials, and Basic's decoded password) and
 * the DPoP proof. Never throws.
 */
export function secretsOfRequest(body: unknown, headers: unknown): string[] {
  const secrets: string[] = [];
  if (body instanceof URLSearchParams) {
    for (const name of SECRET_PARAMETERS) {
      for (const value of body.getAll(name)) secrets.push(value);
    }
  }
  const header = (name: string): string | undefined => {
    if (headers instanceof Headers) return headers.get(name) ?? undefined;
    if (typeof headers !== 'object' || headers === null) return undefined;
    for (const [key, value] of Object.entries(headers)) {
      if (key.toLowerCase() === name && typeof value === 'string') return value;
    }
    return undefined;
  };
  const authorization = header('authorization');
  if (authorization !== undefined) {
    secrets.push(authorization);
    const credentials = authorization.replace(/^\S+\s+/, '');
    secrets.push(credentials);
    if (/^basic\s/i.test(authorization)) {
      try {
        const decoded = atob(credentials);
        secrets.push(decoded);
        // "client_id:client_secret", each form-encoded; the id is not a secret.
        const password = decoded.slice(decoded.indexOf(':') + 1);
        secrets.push(password, safeDecode(password));
      } catch {
        // not base64: the header as sent is already listed
      }
    }
  }
  const proof = header('dpop');
  if (proof !== undefined) secrets.push(proof);
  return secrets;
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    return value;
  }
}
