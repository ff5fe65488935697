/**
 * Redaction of server-supplied text (an `error_description`) before it goes into an error:
 * a careless server may echo the request back, and the request carried secrets, in whatever
 * encoding the server chose (percent, HTML, JSON escapes, base64) and cut anywhere.
 */

/** What replaces a secret. */
export const REDACTED = '[redacted]';

/**
 * Anything shaped like a compact JWS or JWE, or a piece of one (a token, an assertion, a
 * DPoP proof, even cut short): base64url JSON starting `{"`, with or without dots.
 */
const JWT_LIKE = /eyJ[\w-]*(?:\.[\w-]*)*/g;
/**
 * Characters kept out of messages that end up in logs and terminals: C0 and C1 controls,
 * and Unicode format characters (bidi overrides, zero-width joiners, line separators).
 */
const UNPRINTABLE = /[\p{Cc}\p{Cf}\u2028\u2029]+/gu;
/** Secrets shorter than this are not looked for: replacing every "a" mangles the text. */
const MIN_SECRET_LENGTH = 4;
/** A run this long of a secret, in any rendering, is a leak (a "prefix" of 8 characters). */
export const LEAK_WINDOW = 8;

/**
 * Returns server-supplied `text` safe to put in an error, as a pure function:
 *
 * 1. Control and format characters become spaces.
 * 2. Every secret as sent, percent-encoded (either hex case), double-encoded and
 *    form-encoded is replaced by `[redacted]`, and so is anything shaped like a JWT.
 * 3. The result is cut to `maxLength` characters.
 * 4. If what is left still holds 8 consecutive characters of a secret (or a whole secret of
 *    4 to 7 characters) under any decoding (percent, `+` for space, HTML character
 *    references, JSON and JS escapes, base64 and base64url, and combinations of them), the
 *    whole text is dropped: `[redacted]` alone. A server that echoes a secret in some
 *    encoding does not get to show any of it, truncated or not.
 */
export function redactText(text: string, secrets: Iterable<string>, maxLength = 200): string {
  const kept = [...new Set(secrets)].filter((secret) => secret.length >= MIN_SECRET_LENGTH);
  const variants = new Set<string>();
  for (const secret of kept) {
    variants.add(secret);
    const percent = encodeURIComponent(secret);
    variants.add(percent);
    variants.add(lowerHex(percent));
    variants.add(new URLSearchParams({ s: secret }).toString().slice(2));
    variants.add(encodeURIComponent(percent));
    variants.add(lowerHex(encodeURIComponent(lowerHex(percent))));
  }
  let result = text.replace(UNPRINTABLE, ' ');
  // Longest first, so a secret containing another is replaced whole.
  for (const variant of [...variants].sort((a, b) => b.length - a.length)) {
    result = result.split(variant).join(REDACTED);
  }
  result = result.replace(JWT_LIKE, REDACTED);
  if (result.length > maxLength) result = `${result.slice(0, maxLength - 1)}…`;
  return mayLeak(result, kept) ? REDACTED : result;
}

/**
 * True when `text`, under any of the decodings a server or a log pipeline may apply, holds a
 * run of {@link LEAK_WINDOW} characters of one of `secrets` (or a whole secret shorter than
 * that). Pure; never throws.
 */
export function mayLeak(text: string, secrets: readonly string[]): boolean {
  const windows = new Set<string>();
  const short: string[] = [];
  for (const secret of secrets) {
    if (secret.length < MIN_SECRET_LENGTH) continue;
    if (secret.length < LEAK_WINDOW) {
      short.push(secret);
      continue;
    }
    for (let i = 0; i + LEAK_WINDOW <= secret.length; i += 1) {
      windows.add(secret.slice(i, i + LEAK_WINDOW));
    }
  }
  if (windows.size === 0 && short.length === 0) return false;
  for (const view of decodedViews(text)) {
    for (const secret of short) if (view.includes(secret)) return true;
    for (let i = 0; i + LEAK_WINDOW <= view.length; i += 1) {
      if (windows.has(view.slice(i, i + LEAK_WINDOW))) return true;
    }
  }
  return false;
}

/**
 * The text an error shows, down its cause chain: every string field, `message` and `stack`,
 * joined. For {@link mayLeak}; never throws.
 */
export function errorText(error: unknown): string {
  const parts: string[] = [];
  let link: unknown = error;
  for (let depth = 0; depth < 8 && typeof link === 'object' && link !== null; depth += 1) {
    try {
      for (const value of Object.values(link)) if (typeof value === 'string') parts.push(value);
      const { message, stack } = link as { message?: unknown; stack?: unknown };
      if (typeof message === 'string') parts.push(message);
      if (typeof stack === 'string') parts.push(stack);
      link = (link as { cause?: unknown }).cause;
    } catch {
      break;
    }
  }
  if (typeof error === 'string') parts.push(error);
  return parts.join('\n');
}

/**
 * `error` itself when it shows none of `secrets` ({@link mayLeak}); otherwise a plain `Error`
 * with the same `name` and string `code`, whose message is redacted and which has no cause.
 * For errors of user code (a hook) that may quote the secret it was handling.
 */
export function withoutSecrets(error: unknown, secrets: readonly string[]): unknown {
  if (!mayLeak(errorText(error), secrets)) return error;
  let name = 'Error';
  let message = '';
  let code: unknown;
  try {
    const fields = error as { name?: unknown; message?: unknown; code?: unknown };
    if (typeof fields.name === 'string') name = fields.name;
    if (typeof fields.message === 'string') message = fields.message;
    code = fields.code;
  } catch {
    // a hostile object: the generic name and no message
  }
  const copy = new Error(
    `${redactText(message, secrets, 500)} (the original error showed a secret and was withheld)`,
  );
  copy.name = name.length <= 100 ? name : 'Error';
  if (typeof code === 'string' && code.length <= 100) Object.assign(copy, { code });
  return copy;
}

/** The percent-escapes of `text` with lower-case hex digits. */
function lowerHex(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (pair) => pair.toLowerCase());
}

/** The most decoded views looked at: a bound on hostile input. */
const MAX_VIEWS = 512;

/**
 * `text` and what it reads as under every decoding, up to four in a row (base64 of a
 * percent-encoded secret, HTML of a double-encoded one, ...), at most {@link MAX_VIEWS}.
 */
function decodedViews(text: string): Set<string> {
  const decoders: ReadonlyArray<(view: string) => readonly string[]> = [
    (view) => [percentDecode(view)],
    (view) => [formDecode(view)],
    (view) => [htmlDecode(view)],
    (view) => [escapeDecode(view)],
    base64Views,
  ];
  const views = new Set<string>([text]);
  let frontier = [text];
  for (let depth = 0; depth < 4 && frontier.length > 0; depth += 1) {
    const next: string[] = [];
    for (const view of frontier) {
      for (const decode of decoders) {
        for (const decoded of decode(view)) {
          if (views.size >= MAX_VIEWS) return views;
          if (!views.has(decoded)) {
            views.add(decoded);
            next.push(decoded);
          }
        }
      }
    }
    frontier = next;
  }
  return views;
}

/** `%XX` escapes decoded as UTF-8 bytes; anything malformed is left as it is. */
function percentDecode(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    const bytes = new Uint8Array(run.length / 3);
    for (let i = 0; i < bytes.length; i += 1) {
      bytes[i] = Number.parseInt(run.slice(i * 3 + 1, i * 3 + 3), 16);
    }
    return utf8(bytes);
  });
}

/** Form decoding: `+` is a space, then percent decoding. */
function formDecode(text: string): string {
  return text.includes('+') ? percentDecode(text.replace(/\+/g, ' ')) : text;
}

/** The named character references that can spell a printable ASCII character. */
const NAMED: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  sol: '/',
  bsol: '\\',
  colon: ':',
  semi: ';',
  comma: ',',
  period: '.',
  excl: '!',
  quest: '?',
  equals: '=',
  plus: '+',
  minus: '-',
  percnt: '%',
  num: '#',
  dollar: '$',
  commat: '@',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  rsqb: ']',
  lbrack: '[',
  rbrack: ']',
  lcub: '{',
  rcub: '}',
  lbrace: '{',
  rbrace: '}',
  ast: '*',
  midast: '*',
  hat: '^',
  grave: '`',
  lowbar: '_',
  UnderBar: '_',
  verbar: '|',
  vert: '|',
  VerticalLine: '|',
  tilde: '~',
  Tab: ' ',
  NewLine: ' ',
};

/** HTML character references (`&#x41;`, `&#65;`, `&amp;`), with or without the `;`. */
function htmlDecode(text: string): string {
  if (!text.includes('&')) return text;
  return text.replace(
    /&(?:#[xX]([0-9A-Fa-f]{1,6})|#(\d{1,7})|([A-Za-z]{2,12}));?/g,
    (ref, hex, dec, name) => {
      if (name !== undefined) return NAMED[name] ?? ref;
      const code = hex !== undefined ? Number.parseInt(hex, 16) : Number(dec);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : ref;
    },
  );
}

/** JSON and JavaScript escapes (`\u0041`, `\x41`, `\n`, `\"`, `\/`). */
function escapeDecode(text: string): string {
  if (!text.includes('\\')) return text;
  return text.replace(
    /\\(?:u\{([0-9A-Fa-f]{1,6})\}|u([0-9A-Fa-f]{4})|x([0-9A-Fa-f]{2})|(.))/gs,
    (whole, braced, u, x, char) => {
      const hex = braced ?? u ?? x;
      if (hex !== undefined) {
        const code = Number.parseInt(hex, 16);
        return code <= 0x10ffff ? String.fromCodePoint(code) : whole;
      }
      const simple: Record<string, string> = {
        n: ' ',
        r: ' ',
        t: ' ',
        b: ' ',
        f: ' ',
        v: ' ',
        0: ' ',
      };
      return simple[char as string] ?? (char as string);
    },
  );
}

/**
 * Every run of base64 or base64url characters (11 or more: 8 bytes) decoded from each of its
 * first four positions (so a secret encoded inside a longer encoding is found whatever its
 * alignment), as UTF-8 and as Latin-1.
 */
function base64Views(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/[A-Za-z0-9+/_-]{11,}/g)) {
    const run = match[0].replace(/-/g, '+').replace(/_/g, '/');
    for (let start = 0; start < 4 && run.length - start >= 11; start += 1) {
      const part = run.slice(start);
      // A trailing partial group still spells one or two bytes: pad it, never drop it.
      const whole = part.length % 4 === 1 ? part.slice(0, -1) : part;
      let binary: string;
      try {
        binary = atob(whole.padEnd(Math.ceil(whole.length / 4) * 4, '='));
      } catch {
        continue;
      }
      out.push(binary);
      out.push(utf8(Uint8Array.from(binary, (char) => char.charCodeAt(0))));
    }
  }
  return out;
}

function utf8(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes);
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
        // "client_id:client_secret", each form-encoded; the id is not a secret (and a server
        // naming the client must not lose its whole description over it).
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
