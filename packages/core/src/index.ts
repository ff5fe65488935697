/**
 * @sluice/core: keeps credentials fresh for the code that uses them.
 *
 * @packageDocumentation
 */

export {
  admitMint,
  type BreakerAdmission,
  type BreakerConfig,
  type BreakerOptions,
  type BreakerState,
  type BreakerStateName,
  breakerRetryAfterMs,
  CLOSED_BREAKER,
  DEFAULT_MAX_RETRY_AFTER_MS,
  recordFailure,
  recordSuccess,
} from './circuit-breaker.js';
export type {
  KeyedMint,
  KeyedProvider,
  KeyedProviderOptions,
  KeyedSnapshot,
  Sweep,
  SweepOptions,
} from './contracts/keyed.js';
export type {
  PollAttempt,
  PollAttemptContext,
  PollOptions,
  PollResult,
  PollScheduleOptions,
} from './contracts/poll.js';
export type {
  CallOptions,
  Mint,
  MintContext,
  ProviderSnapshot,
  RefreshingProvider,
} from './contracts/provider.js';
export type { Timers } from './contracts/timers.js';
export {
  type Credential,
  credentialFromExpiresIn,
  type ExpiresInOptions,
  remainingMs,
} from './credential.js';
export {
  BreakerOpenError,
  InvalidClockError,
  InvalidCredentialError,
  InvalidOptionError,
  type InvalidOptionErrorOptions,
  isSluiceError,
  KeysBusyError,
  MaxWaitError,
  MintedCredentialExpiredError,
  MintTimeoutError,
  ProviderClosedError,
  SluiceError,
  type SluiceErrorByCode,
  type SluiceErrorCode,
  type SluiceErrorOptions,
  UnknownOptionError,
} from './errors.js';
export {
  classifyHttpStatus,
  type HttpStatusClass,
  isTransientNetworkError,
} from './http-status.js';
export { createKeyedProvider } from './keyed-provider.js';
export { checkKnownKeys, nearestKey } from './known-keys.js';
export { labelValue } from './label-value.js';
export { createLazyProvider, type LazyProviderOptions } from './lazy-provider.js';
export {
  type CredentialCodec,
  checkCredentialCodec,
  type MintTraits,
  mintTraitsOf,
  withMintTraits,
} from './mint-traits.js';
export type { RefreshPolicyOptions, RefreshSchedule } from './policy-options.js';
export { POLICY_OPTION_KEYS } from './policy-options.js';
export { jitterDelayMs, poll, pollDelayMs } from './poll.js';
export { raceSignal } from './race-signal.js';
export {
  type CredentialSchedule,
  computeRefreshDueAt,
  decideServe,
  type RefreshTiming,
  type ServeDecision,
  scheduleCredential,
} from './refresh-policy.js';
export {
  createRefreshingProvider,
  type RefreshingProviderOptions,
} from './refreshing-provider.js';
export {
  type BreakerRefusedEvent,
  type BreakerStateChangeEvent,
  type CoalescedEvent,
  combineReporters,
  errorCode,
  errorType,
  type InvalidateRefusedEvent,
  type KeyDroppedEvent,
  type KeyDropReason,
  type MintReason,
  OTHER_ERROR_TYPE,
  REPORTER_HOOKS,
  type RefreshFailureEvent,
  type RefreshStartEvent,
  type RefreshSuccessEvent,
  type Reporter,
  type ReporterEventBase,
  type ReporterHook,
} from './reporter.js';
export {
  createSnapshotSet,
  type ObservableProvider,
  type ObservedSnapshot,
  type SnapshotSet,
} from './snapshot-set.js';
