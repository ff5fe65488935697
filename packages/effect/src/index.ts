/**
 * @sluice/effect: Sluice's refreshing credentials as Effect 4 services. A `Layer` owns the
 * provider for its scope; `get`, `refresh` and the rest are Effects failing with tagged
 * errors; the mint is an Effect with its own requirements; Effect's `Clock` (and so
 * `TestClock`) is the provider's clock and drives every timer, the mint timeout included.
 *
 * @packageDocumentation
 */

export { credentialExpiringIn } from './credential.js';
export {
  type CredentialProvider,
  credentialProviderLayer,
  makeCredentialProvider,
} from './credential-provider.js';
export {
  BreakerOpen,
  type CredentialError,
  InvalidClock,
  InvalidCredential,
  type KeyedCredentialError,
  KeysBusy,
  MintFailed,
  MintTimeout,
  ProviderClosed,
} from './errors.js';
export {
  type KeyedCredentialProvider,
  type KeyedCredentialProviderOptions,
  keyedCredentialProviderLayer,
  makeKeyedCredentialProvider,
  type SweepPolicy,
} from './keyed-credential-provider.js';
export type {
  BreakerPolicy,
  CredentialPolicyOptions,
  CredentialProviderOptions,
  EffectMint,
  EffectMintContext,
} from './options.js';
