/**
 * A lenient parser of the `WWW-Authenticate` header (RFC 9110 section 11.6.1): a list of
 * challenges, each a scheme with either a token68 or comma-separated `name=value`
 * parameters (values are tokens or quoted strings). Pure; never throws.
 */

/** One parsed challenge. */
export interface Challenge {
  /** The auth scheme, lower-cased (`'bearer'`, `'dpop'`, `'basic'`). */
  readonly scheme: string;
  /** Parameters by lower-cased name; the first occurrence of a name wins. */
  readonly params: Readonly<Record<string, string>>;
  /** The token68 form (`Basic dXNlcg==`), when the challenge used it. */
  readonly token68?: string;
}

/** Longest header parsed, in characters; the rest is ignored. */
const MAX_HEADER_CHARS = 16 * 1024;
/** Most challenges returned. */
const MAX_CHALLENGES = 32;
const TCHAR = /[!#$%&'*+.^_`|~0-9A-Za-z-]/;
const TOKEN68 = /^[A-Za-z0-9._~+/-]+=*$/;

/**
 * Parses a `WWW-Authenticate` value into its challenges. Malformed parts are skipped rather
 * than failing the whole header: `Bearer error="invalid_token", garbage` still yields the
 * Bearer challenge. `null`, `undefined` or an empty value yield `[]`.
 *
 * @example
 * ```ts
 * parseWwwAuthenticate('Bearer realm="api", error="invalid_token", DPoP algs="ES256"');
 * // [{ scheme: 'bearer', params: { realm: 'api', error: 'invalid_token' } },
 * //  { scheme: 'dpop', params: { algs: 'ES256' } }]
 * ```
 */
export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (typeof header !== 'string' || header === '') return [];
  const text = header.length > MAX_HEADER_CHARS ? header.slice(0, MAX_HEADER_CHARS) : header;
  const challenges: Array<{ scheme: string; params: Record<string, string>; token68?: string }> =
    [];
  let current: (typeof challenges)[number] | undefined;
  let i = 0;
  const n = text.length;

  const skip = (chars: string): void => {
    while (i < n && chars.includes(text[i] as string)) i += 1;
  };
  const readToken = (): string => {
    const start = i;
    while (i < n && TCHAR.test(text[i] as string)) i += 1;
    return text.slice(start, i);
  };
  const readQuoted = (): string => {
    i += 1; // opening quote
    let value = '';
    while (i < n) {
      const char = text[i] as string;
      if (char === '\\' && i + 1 < n) {
        value += text[i + 1];
        i += 2;
      } else if (char === '"') {
        i += 1;
        break;
      } else {
        value += char;
        i += 1;
      }
    }
    return value;
  };
  const skipToComma = (): void => {
    while (i < n && text[i] !== ',') {
      if (text[i] === '"') readQuoted();
      else i += 1;
    }
  };

  while (i < n && challenges.length <= MAX_CHALLENGES) {
    skip(' \t,');
    if (i >= n) break;
    const name = readToken();
    if (name === '') {
      skipToComma(); // not a token: skip this element
      continue;
    }
    skip(' \t');
    if (text[i] === '=' && current !== undefined) {
      // name=value, a parameter of the current challenge
      i += 1;
      skip(' \t');
      const value = text[i] === '"' ? readQuoted() : readToken();
      const key = name.toLowerCase();
      if (!(key in current.params)) current.params[key] = value;
      skip(' \t');
      if (i < n && text[i] !== ',') skipToComma();
      continue;
    }
    if (text[i] === '=') {
      skipToComma(); // a parameter before any scheme: ignored
      continue;
    }
    // A new challenge. Is what follows (up to the next comma) a token68?
    current = { scheme: name.toLowerCase(), params: {} };
    challenges.push(current);
    const end = text.indexOf(',', i);
    const rest = text.slice(i, end === -1 ? n : end).trim();
    if (rest !== '' && TOKEN68.test(rest)) {
      current.token68 = rest;
      i = end === -1 ? n : end;
    }
  }
  return challenges.slice(0, MAX_CHALLENGES).map((challenge) =>
    challenge.token68 === undefined
      ? { scheme: challenge.scheme, params: Object.freeze(challenge.params) }
      : {
          scheme: challenge.scheme,
          params: Object.freeze(challenge.params),
          token68: challenge.token68,
        },
  );
}
