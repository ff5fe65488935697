/**
 * The low-cardinality `error_type` label value of a failed refresh.
 */

/** The value used when an error has neither a usable `code` nor a usable `name`. */
export const OTHER_ERROR_TYPE = '_OTHER';

const TOKEN = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;

/**
 * The error's `code` (`SLUICE_MINT_TIMEOUT`, `ECONNRESET`, ...) when it is a short identifier,
 * else its `name` (`TypeError`, a custom class name) when that is one, else `_OTHER`. Never
 * the message: messages carry URLs, ids and numbers, which would make every failure its own
 * series. Safe on any thrown value (a getter that throws yields `_OTHER`).
 * @internal
 */
export function errorType(error: unknown, code: string | undefined): string {
  if (code !== undefined && TOKEN.test(code)) return code;
  if ((typeof error === 'object' && error !== null) || typeof error === 'function') {
    try {
      const name = (error as { name?: unknown }).name;
      if (typeof name === 'string' && TOKEN.test(name)) return name;
    } catch {
      // A hostile getter: fall through.
    }
  }
  return OTHER_ERROR_TYPE;
}
