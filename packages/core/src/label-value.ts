/**
 * Label (and span attribute) values that are well-formed UTF-16 and distinct for distinct
 * inputs, for metric and tracing backends such as `@sluice/prometheus` and
 * `@sluice/opentelemetry`. A provider name or key may hold a lone surrogate (a string cut in
 * the middle of an emoji, a hostile tenant id); exposition encodes it as U+FFFD, so
 * `tenant-\uD800` and `tenant-\uFFFD` would become one series.
 */

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/**
 * `text` itself when it is well-formed and has no `\u` in it (nearly always); otherwise every
 * backslash doubled and every lone surrogate written as the text `\uD800` (six ASCII
 * characters). The mapping is injective: an escaped result always contains `\u`, which an
 * unescaped one never does, and within the escaped ones the escape decodes back.
 *
 * @example
 * ```ts
 * labelValue('billing-api'); // 'billing-api'
 * labelValue('tenant-\uD800'); // 'tenant-\\uD800' (the six characters \uD800)
 * ```
 */
export function labelValue(text: string): string {
  if (!LONE_SURROGATE.test(text) && !text.includes('\\u')) return text;
  return text
    .replaceAll('\\', '\\\\')
    .replace(
      LONE_SURROGATES,
      (unit) => `\\u${unit.charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')}`,
    );
}
