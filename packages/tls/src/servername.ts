/**
 * SNI servername validation: a servername must be a DNS hostname before anything is done
 * for it. Pure functions, no allocation on the accepted path beyond the normalized string.
 */

import { checkKnownKeys } from '@sluice/core';
import { ServernameInvalidError, type ServernameProblem } from './errors.js';

/** Options of {@link normalizeServername}. */
export interface ServernameOptions {
  /**
   * Accept names of a single label, such as `localhost` or `intranet`. Public CAs never
   * issue for them, so on-demand issuance refuses them unless you opt in.
   * @default false
   */
  allowSingleLabel?: boolean;
}

/** A refused name: the problem. @internal */
export interface Refusal {
  readonly problem: ServernameProblem;
}

const refusals = {} as Record<ServernameProblem, Refusal>;
function refusal(problem: ServernameProblem): Refusal {
  let found = refusals[problem];
  if (found === undefined) {
    found = Object.freeze({ problem });
    refusals[problem] = found;
  }
  return found;
}

const MAX_NAME = 253;
const MAX_LABEL = 63;
const DOT = 46;
const HYPHEN = 45;

/**
 * The normalized servername (lowercase, one trailing dot stripped) or the problem with it.
 * Hot path of every handshake: a single pass over the characters.
 * @internal
 */
export function checkServername(name: unknown, allowSingleLabel: boolean): string | Refusal {
  if (typeof name !== 'string') return refusal('not-a-string');
  let end = name.length;
  if (end === 0) return refusal('empty');
  if (end > MAX_NAME + 1) return refusal('too-long');
  if (name.charCodeAt(end - 1) === DOT) end -= 1; // the root label: strip one trailing dot
  if (end === 0) return refusal('empty');
  if (end > MAX_NAME) return refusal('too-long');
  let labels = 0;
  let labelStart = 0;
  let labelDigitsOnly = true;
  let allDigits = true;
  let upper = false;
  let problem: ServernameProblem | undefined;
  for (let i = 0; i <= end; i++) {
    const c = i === end ? DOT : name.charCodeAt(i);
    if (c === DOT) {
      const length = i - labelStart;
      if (length === 0) return refusal('empty-label');
      if (length > MAX_LABEL) problem ??= 'label-too-long';
      if (name.charCodeAt(i - 1) === HYPHEN) problem ??= 'bad-hyphen';
      if (!labelDigitsOnly) allDigits = false;
      labels += 1;
      labelStart = i + 1;
      if (i !== end) labelDigitsOnly = true;
      continue;
    }
    if (c >= 48 && c <= 57) continue; // 0-9
    labelDigitsOnly = false;
    if (c >= 97 && c <= 122) continue; // a-z
    if (c >= 65 && c <= 90) {
      upper = true;
      continue;
    }
    if (c === HYPHEN) {
      if (i === labelStart) problem ??= 'bad-hyphen';
      continue;
    }
    if (c > 127) return refusal('non-ascii');
    if (c === 58 || c === 91 || c === 93) return refusal('ip-literal'); // : [ ] of IPv6
    problem ??= 'bad-character';
  }
  if (problem !== undefined) return refusal(problem);
  // The last label is all digits: a dotted IPv4 address (or a shortened form such as
  // 127.1), or a numeric top-level domain, which no registry delegates.
  if (labelDigitsOnly) return refusal(allDigits ? 'ip-literal' : 'numeric-tld');
  if (labels < 2 && !allowSingleLabel) return refusal('single-label');
  const trimmed = end === name.length ? name : name.slice(0, end);
  return upper ? trimmed.toLowerCase() : trimmed;
}

/**
 * A short, printable form of an untrusted name for errors and telemetry: at most 80
 * characters, control and non-ASCII characters escaped, the original length noted when cut.
 * @internal
 */
export function describeServername(name: unknown): string {
  if (typeof name !== 'string') return `<${name === null ? 'null' : typeof name}>`;
  const head = name.length > 80 ? name.slice(0, 80) : name;
  let out = '';
  for (let i = 0; i < head.length; i++) {
    const c = head.charCodeAt(i);
    if (c >= 0x20 && c < 0x7f && c !== 0x5c && c !== 0x22) out += head[i];
    else out += `\\u${c.toString(16).padStart(4, '0')}`;
  }
  return name.length > 80 ? `"${out}"…(${name.length} chars)` : `"${out}"`;
}

/**
 * Validates an SNI servername as a DNS hostname and returns its normal form: lowercase
 * (SNI is case-insensitive), one trailing dot removed.
 *
 * Accepted: letters, digits and hyphens in labels of 1 to 63 characters, no label starting
 * or ending with a hyphen, at most 253 characters in all, at least two labels (unless
 * `allowSingleLabel`), a last label that is not all digits. Refused: empty names, IPv4 and
 * IPv6 literals, non-ASCII (send the `xn--` punycode form), underscores, wildcards, `/`,
 * spaces, empty labels (`a..b`, two trailing dots).
 *
 * @throws {ServernameInvalidError} `SLUICE_TLS_SERVERNAME_INVALID` with the `problem`.
 * @throws {UnknownOptionError} `SLUICE_INVALID_OPTION` for an unknown key in `options`.
 * @example
 * ```ts
 * normalizeServername('WWW.Example.COM.'); // 'www.example.com'
 * normalizeServername('localhost', { allowSingleLabel: true }); // 'localhost'
 * normalizeServername('127.0.0.1'); // throws, problem 'ip-literal'
 * ```
 */
export function normalizeServername(name: string, options: ServernameOptions = {}): string {
  checkKnownKeys(options, ['allowSingleLabel'], 'normalizeServername');
  const checked = checkServername(name, options.allowSingleLabel === true);
  if (typeof checked === 'string') return checked;
  throw new ServernameInvalidError(describeServername(name), checked.problem);
}
