import type { Credential } from '../../src/credential.js';
import type { MintContext } from '../../src/refreshing-provider.js';
import { type Deferred, deferred } from './fake-clock.js';

/** One call of a {@link manualMint}: what the mint was given and the deferred it returned. */
export interface MintCall<T> {
  readonly context: MintContext<T>;
  readonly deferred: Deferred<Credential<T>>;
}

/** A mint whose every call waits on a deferred the test settles. */
export function manualMint<T = string>() {
  const calls: MintCall<T>[] = [];
  const mint = (context: MintContext<T>) => {
    const d = deferred<Credential<T>>();
    calls.push({ context, deferred: d });
    return d.promise;
  };
  const last = (): MintCall<T> => {
    const call = calls.at(-1);
    if (call === undefined) throw new Error('no mint call yet');
    return call;
  };
  return { mint, calls, last };
}
