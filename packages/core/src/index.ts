/**
 * @sluice/core: keeps credentials fresh for the code that uses them.
 *
 * @packageDocumentation
 */

export {
  type BreakerConfig,
  type BreakerOptions,
  type BreakerState,
  type BreakerStateName,
  admitMint,
  breakerRetryAfterMs,
  CLOSED_BREAKER,
  recordFailure,
  recordSuccess,
  type BreakerAdmission,
} from './circuit-breaker.js';
export { type Credential, credentialFromExpiresIn, type ExpiresInOptions, remainingMs } from './credential.js';
export {
  BreakerOpenError,
  InvalidCredentialError,
  InvalidOptionError,
  isSluiceError,
  MaxWaitError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
  SluiceError,
  type SluiceErrorCode,
  type SluiceErrorOptions,
} from './errors.js';
export type { RefreshPolicyOptions, RefreshSchedule } from './policy-options.js';
export {
  type CredentialSchedule,
  computeRefreshDueAt,
  decideServe,
  type RefreshTiming,
  scheduleCredential,
  type ServeDecision,
} from './refresh-policy.js';
export {
  type CallOptions,
  createRefreshingProvider,
  type Mint,
  type MintContext,
  type ProviderSnapshot,
  type RefreshingProvider,
  type RefreshingProviderOptions,
} from './refreshing-provider.js';
export {
  type BreakerStateChangeEvent,
  type CoalescedEvent,
  combineReporters,
  type MintReason,
  type RefreshFailureEvent,
  type RefreshStartEvent,
  type RefreshSuccessEvent,
  type Reporter,
  type ReporterEventBase,
} from './reporter.js';
