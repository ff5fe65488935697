/**
 * The secret sentinel: register the secrets a test handles (client secret, refresh token,
 * access token, private key, encryption key, DPoP key), hand it everything the code under test
 * lets out (errors, reporter events, spans, metrics text, Redis traffic), and it looks in every
 * rendering of each for every secret, its 8-character prefixes and their common encodings.
 *
 * How a new code path joins the sentinel test (`test/compose/secret-sentinel.test.ts`):
 *
 * 1. Give the path the sentinel's secrets (or `sentinel.add()` a secret it makes, such as a
 *    token minted by a real server).
 * 2. `sentinel.inspect('where it came from', thing)` on whatever the path lets out: the
 *    rejection, each reporter event (`sentinel.reporter()` records every hook of any
 *    reporter interface), each span, the metrics text, a MONITOR transcript.
 * 3. `sentinel.expectClean()` at the end: it fails listing every leak (where, which secret,
 *    which encoding), never printing the secret itself.
 *
 * Renderings of a value: `String()`, `message` and `stack`, `JSON.stringify`, `util.inspect`
 * (depth Infinity, with and without hidden properties), and each of these for every own
 * property (string and symbol keys, enumerable or not, getters read once), recursively, so
 * the whole cause chain and `AggregateError.errors` are covered.
 *
 * Needles of a secret: the secret and every 8-character window starting it (a prefix of 8 or
 * more characters contains the first one); percent-encoded (upper and lower hex), double
 * encoded, form encoded, HTML-escaped (`&#x..;` either case, `&#..;`), JSON-escaped
 * (`\uXXXX`), backslash-escaped any number of times (a JSON string in a MONITOR line), base64
 * and base64url at each of the three byte alignments.
 */

import { inspect } from 'node:util';

/** One leak found: where, which secret, in which encoding. Never the secret itself. */
export interface Leak {
  readonly where: string;
  readonly secret: string;
  readonly encoding: string;
}

interface Needle {
  readonly text: string;
  readonly encoding: string;
  /** Matched case-insensitively (hex digits of percent- and HTML-escapes). */
  readonly anyCase: boolean;
}

/** The length of the prefix that must never appear. */
export const PREFIX_CHARS = 8;

/** The needles of `secret`: the prefix in every encoding the sentinel knows. */
export function needlesOf(secret: string): Needle[] {
  if (secret.length < PREFIX_CHARS) {
    throw new Error(`a sentinel secret needs at least ${PREFIX_CHARS} characters`);
  }
  const prefix = secret.slice(0, PREFIX_CHARS);
  const needles: Needle[] = [];
  const add = (text: string, encoding: string, anyCase = false) => {
    if (!needles.some((n) => n.text === text && n.anyCase === anyCase)) {
      needles.push({ text, encoding, anyCase });
    }
  };
  add(prefix, 'plain');
  const percent = percentAll(prefix);
  add(percent, 'percent-encoded (every byte)', true);
  add(encodeURIComponent(prefix), 'percent-encoded', true);
  add(encodeURIComponent(encodeURIComponent(prefix)), 'double percent-encoded', true);
  add(percentAll(percent), 'double percent-encoded (every byte)', true);
  add(new URLSearchParams({ s: prefix }).toString().slice(2), 'form-encoded', true);
  add(
    [...prefix].map((c) => `&#x${c.codePointAt(0)?.toString(16)};`).join(''),
    'HTML-escaped (hex)',
    true,
  );
  add([...prefix].map((c) => `&#${c.codePointAt(0)};`).join(''), 'HTML-escaped (decimal)');
  add(htmlEscape(prefix), 'HTML-escaped (named)');
  add(JSON.stringify(prefix).slice(1, -1), 'JSON-escaped');
  add(
    [...prefix].map((c) => `\\u${c.codePointAt(0)?.toString(16).padStart(4, '0')}`).join(''),
    'JSON \\u-escaped',
    true,
  );
  const bytes = Buffer.from(secret, 'utf8');
  for (let offset = 0; offset < 3; offset++) {
    // Six bytes from a 3-byte boundary encode to 8 characters whatever precedes them.
    const window = bytes.subarray(offset, offset + 6);
    if (window.length < 6) continue;
    add(window.toString('base64'), `base64 (alignment ${offset})`);
    add(window.toString('base64url'), `base64url (alignment ${offset})`);
  }
  return needles;
}

function percentAll(text: string): string {
  return [...Buffer.from(text, 'utf8')]
    .map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('');
}

function htmlEscape(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );
}

/** Every rendering of `value` as text (see the file comment). Never throws. */
export function renderings(value: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const attempt = (f: () => unknown) => {
    try {
      const text = f();
      if (typeof text === 'string') out.push(text);
    } catch {
      // a rendering that throws shows nothing
    }
  };
  const visit = (v: unknown, depth: number): void => {
    if (typeof v === 'string') {
      out.push(v);
      return;
    }
    if (typeof v !== 'object' && typeof v !== 'function') {
      attempt(() => String(v));
      return;
    }
    if (v === null || seen.has(v) || depth > 12) return;
    seen.add(v);
    attempt(() => String(v));
    attempt(() => JSON.stringify(v));
    attempt(() => inspect(v, { depth: Number.POSITIVE_INFINITY }));
    attempt(() => inspect(v, { depth: Number.POSITIVE_INFINITY, showHidden: true }));
    if (v instanceof Error) {
      attempt(() => v.message);
      attempt(() => v.stack);
    }
    if (v instanceof Map) {
      for (const [k, item] of v) {
        visit(k, depth + 1);
        visit(item, depth + 1);
      }
    }
    if (v instanceof Set || Array.isArray(v)) {
      for (const item of v) visit(item, depth + 1);
    }
    if (ArrayBuffer.isView(v)) {
      attempt(() => Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('latin1'));
      return;
    }
    let keys: (string | symbol)[] = [];
    try {
      keys = Reflect.ownKeys(v);
    } catch {
      return;
    }
    for (const key of keys) {
      let item: unknown;
      try {
        item = (v as Record<string | symbol, unknown>)[key];
      } catch {
        continue;
      }
      if (typeof key === 'string') out.push(key);
      visit(item, depth + 1);
    }
  };
  visit(value, 0);
  return out;
}

/** Secrets, and the leaks found so far. */
export class SecretSentinel {
  readonly #secrets = new Map<string, Needle[]>();
  readonly #leaks: Leak[] = [];
  /** How many values were inspected (a test asserts it looked at something). */
  inspected = 0;
  /** `where.hook` of every reporter call received, in order (a test asserts the path ran). */
  readonly events: string[] = [];

  /** Registers a secret under `label` (returned, for chaining into options). */
  add(label: string, secret: string): string {
    if (!this.#secrets.has(label)) this.#secrets.set(label, needlesOf(secret));
    return secret;
  }

  /** The labels registered. */
  labels(): string[] {
    return [...this.#secrets.keys()];
  }

  /** Looks for every secret in every rendering of `value`; records leaks under `where`. */
  inspect(where: string, value: unknown): void {
    this.inspected += 1;
    const texts = renderings(value);
    for (const [label, needles] of this.#secrets) {
      let leaked = false;
      for (const needle of needles) {
        const found = texts.some((text) =>
          needle.anyCase
            ? text.toLowerCase().includes(needle.text.toLowerCase())
            : text.includes(needle.text),
        );
        if (found) {
          this.#leaks.push({ where, secret: label, encoding: needle.encoding });
          leaked = true;
          break;
        }
      }
      // Quoted any number of times (JSON in a MONITOR line, a logged JSON string): compare
      // with every backslash removed from both sides.
      const plain = needles[0]?.text.replace(/\\/g, '') ?? '';
      if (
        !leaked &&
        texts.some((text) => text.includes('\\') && text.replace(/\\/g, '').includes(plain))
      ) {
        this.#leaks.push({ where, secret: label, encoding: 'backslash-escaped' });
      }
    }
  }

  /** The leaks found so far. */
  leaks(): readonly Leak[] {
    return this.#leaks;
  }

  /** A reporter recording every hook call it receives, each event inspected. */
  reporter<R extends object>(where: string, hooks: readonly string[]): R {
    const reporter: Record<string, (event: unknown) => void> = {};
    for (const hook of hooks) {
      reporter[hook] = (event: unknown) => {
        this.events.push(`${where}.${hook}`);
        this.inspect(`${where}.${hook}`, event);
      };
    }
    return reporter as R;
  }

  /** Fails listing every leak (where, which secret, which encoding). */
  expectClean(): void {
    if (this.#leaks.length === 0) return;
    const lines = this.#leaks.map((l) => `- ${l.where}: ${l.secret} (${l.encoding})`);
    throw new Error(`secrets leaked (${this.#leaks.length}):\n${lines.join('\n')}`);
  }
}

/**
 * A sentinel secret: random, with characters every encoding changes inside its first 8
 * (`%`, `&`, `"`, `/`), so each encoding of the prefix is a needle of its own.
 */
export function sentinelSecret(kind: string): string {
  const r = (n: number) =>
    Math.random()
      .toString(36)
      .slice(2, 2 + n)
      .padEnd(n, '0');
  return `${r(2)}%&${r(2)}"/+=<>'${kind}-${r(10)}`;
}

/** The parts of a JWT worth keeping secret: its signature (the header is public). */
export function jwtSignature(token: string): string {
  const parts = token.split('.');
  return parts.length === 3 && (parts[2] ?? '').length >= PREFIX_CHARS
    ? (parts[2] as string)
    : token;
}

/**
 * What a hostile or careless server may echo of a secret it received: the secret itself and
 * its common encodings, and a truncated copy. Feed these to the code under test (an
 * `error_description`, a `WWW-Authenticate` challenge, a Redis error) and check with a
 * {@link SecretSentinel} that none comes out.
 */
export function echoesOf(
  secret: string,
): Array<{ readonly encoding: string; readonly text: string }> {
  const percentLower = encodeURIComponent(secret).replace(/%[0-9A-F]{2}/g, (m) => m.toLowerCase());
  return [
    { encoding: 'plain', text: secret },
    { encoding: 'percent-encoded', text: encodeURIComponent(secret) },
    { encoding: 'percent-encoded lower case', text: percentLower },
    { encoding: 'every byte percent-encoded', text: percentAll(secret) },
    { encoding: 'double percent-encoded', text: encodeURIComponent(encodeURIComponent(secret)) },
    { encoding: 'form-encoded', text: new URLSearchParams({ s: secret }).toString().slice(2) },
    {
      encoding: 'HTML-escaped',
      text: [...secret].map((c) => `&#x${c.codePointAt(0)?.toString(16)};`).join(''),
    },
    { encoding: 'HTML-escaped (named)', text: htmlEscape(secret) },
    { encoding: 'JSON-escaped', text: JSON.stringify(secret).slice(1, -1) },
    { encoding: 'truncated to 12', text: secret.slice(0, 12) },
    { encoding: 'base64', text: Buffer.from(secret).toString('base64') },
    { encoding: 'base64url', text: Buffer.from(secret).toString('base64url') },
  ];
}
