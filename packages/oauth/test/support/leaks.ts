/**
 * The tests' own leak detector, written independently of `src/redact.ts`: every rendering of
 * an error or event (message, `String()`, `JSON.stringify`, `util.inspect`, every string
 * field down the cause chain), searched for the first 8 characters of a secret in each
 * encoding a server or a log pipeline may use.
 */

import { inspect } from 'node:util';

/** The encodings a careless server may echo a secret in, by name. */
export const ENCODINGS: Readonly<Record<string, (text: string) => string>> = {
  raw: (text) => text,
  percentUpper: (text) => encodeURIComponent(text),
  percentLower: (text) => lowerHex(encodeURIComponent(text)),
  percentAll: (text) =>
    [...new TextEncoder().encode(text)]
      .map((byte) => `%${byte.toString(16).padStart(2, '0')}`)
      .join(''),
  double: (text) => encodeURIComponent(encodeURIComponent(text)),
  doubleLower: (text) => lowerHex(encodeURIComponent(lowerHex(encodeURIComponent(text)))),
  form: (text) => new URLSearchParams({ s: text }).toString().slice(2),
  htmlHex: (text) => [...text].map((c) => `&#x${c.codePointAt(0)?.toString(16)};`).join(''),
  htmlHexUpper: (text) =>
    [...text].map((c) => `&#X${c.codePointAt(0)?.toString(16).toUpperCase()};`).join(''),
  htmlDecimal: (text) => [...text].map((c) => `&#${c.codePointAt(0)};`).join(''),
  htmlNamed: (text) =>
    text.replace(
      /[&<>"']/g,
      (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] ?? c,
    ),
  jsonEscaped: (text) =>
    [...text]
      .map((c) =>
        (c.codePointAt(0) ?? 0) > 0xffff
          ? JSON.stringify(c).slice(1, -1)
          : `\\u${(c.codePointAt(0) ?? 0).toString(16).padStart(4, '0')}`,
      )
      .join(''),
  base64: (text) => Buffer.from(text, 'utf8').toString('base64'),
  base64url: (text) => Buffer.from(text, 'utf8').toString('base64url'),
  basicHeader: (text) =>
    Buffer.from(`some-client:${encodeURIComponent(text)}`, 'utf8').toString('base64'),
  htmlOfPercent: (text) => encodeURIComponent(text).replace(/%/g, '&#37;'),
};

function lowerHex(text: string): string {
  return text.replace(/%[0-9A-F]{2}/g, (pair) => pair.toLowerCase());
}

/** Every rendering of `value` a log or a terminal may show. */
export function renderings(value: unknown): string[] {
  const out: string[] = [];
  const seen = new Set<unknown>();
  const walk = (item: unknown, depth: number): void => {
    if (depth > 8) return;
    if (typeof item === 'string') {
      out.push(item);
      return;
    }
    if (typeof item !== 'object' || item === null || seen.has(item)) return;
    seen.add(item);
    for (const key of Reflect.ownKeys(item)) {
      let field: unknown;
      try {
        field = (item as Record<PropertyKey, unknown>)[key];
      } catch {
        continue;
      }
      walk(field, depth + 1);
    }
    if (item instanceof Error) {
      out.push(item.message, String(item));
      walk(item.cause, depth + 1);
    }
  };
  walk(value, 0);
  out.push(inspect(value, { depth: Number.POSITIVE_INFINITY, showHidden: true }));
  try {
    out.push(
      JSON.stringify(value, (_key, item) => (item instanceof Error ? errorFields(item) : item)) ??
        '',
    );
  } catch {
    // a cycle: the walk above has every string anyway
  }
  return out;
}

function errorFields(error: Error): Record<string, unknown> {
  const fields: Record<string, unknown> = { name: error.name, message: error.message };
  for (const key of Object.keys(error))
    fields[key] = (error as unknown as Record<string, unknown>)[key];
  if (error.cause !== undefined) fields.cause = error.cause;
  return fields;
}

/**
 * What in `texts` shows the first 8 characters of `secret` in one of {@link ENCODINGS}, as
 * `encoding: excerpt`; empty when nothing does.
 */
export function leaksOf(texts: readonly string[], secret: string): string[] {
  const prefix = [...secret].slice(0, 8).join('');
  const needles = new Map<string, string>();
  for (const [name, encode] of Object.entries(ENCODINGS)) {
    if (name.startsWith('base64') || name === 'basicHeader') continue;
    needles.set(encode(prefix), name);
  }
  // base64 at each alignment: the characters that depend on the prefix's bytes only.
  const bytes = Buffer.from(prefix, 'utf8');
  for (let pad = 0; pad < 3; pad += 1) {
    const data = Buffer.concat([Buffer.alloc(pad, 0x41), bytes]);
    for (const format of ['base64', 'base64url'] as const) {
      const encoded = data.toString(format).replace(/=+$/, '');
      const from = Math.ceil((pad * 8) / 6);
      const to = Math.floor(((pad + bytes.length) * 8) / 6);
      needles.set(encoded.slice(from, to), `${format}@${pad}`);
    }
  }
  const found: string[] = [];
  for (const text of texts) {
    for (const [needle, name] of needles) {
      if (needle.length >= 8 && text.includes(needle)) found.push(`${name}: ${needle}`);
    }
  }
  return found;
}
