/**
 * @sluice/redis: fleet coordination for Sluice providers over Redis. N replicas behave as ONE
 * client of the issuer: one upstream mint per credential lifetime, one failure window for the
 * fleet, and the plain local policy whenever Redis is away.
 *
 * The protocol is written against a small store contract (`CoordinationStore`), exported so
 * another store can implement it; `createRedisCoordinator` is that protocol over Redis.
 *
 * @packageDocumentation
 */

export {
  type Codec,
  jsonCodec,
  type PemPair,
  type PemPairInput,
  tlsCertificateCodec,
} from './coordination/codec.js';
export type { EncryptionKey, EncryptionOptions } from './coordination/encryption.js';
export {
  CodecError,
  type CodecProblem,
  DecryptError,
  type DecryptProblem,
  type FleetErrorCode,
  RelayedMintError,
  type SerializedMintError,
  StoreCommandError,
  StoreTimeoutError,
  StoreUnavailableError,
  UnshareableMintError,
} from './coordination/errors.js';
export {
  type CoordinatorSnapshot,
  createFleetCoordinator,
  type FleetCoordinator,
  type FleetCoordinatorOptions,
  type WrapKeyedOptions,
  type WrapOptions,
} from './coordination/fleet-coordinator.js';
export type {
  CoordinationOptions,
  FailureBackoffOptions,
  PollBackoffOptions,
  StoreBreakerOptions,
} from './coordination/options.js';
export {
  type AdoptedEvent,
  type DecryptFailedEvent,
  type FailureRecordedEvent,
  type FallbackEvent,
  type FallbackReason,
  FLEET_REPORTER_HOOKS,
  type FleetEventBase,
  type FleetReporter,
  type LeasedEvent,
  type LeaseLostEvent,
  type RelayedFailureEvent,
  type StoredEvent,
  type StoreErrorEvent,
  type StoreState,
  type StoreStateChangeEvent,
  type WokenEvent,
} from './coordination/reporter.js';
export type {
  ChangeKind,
  ChangeObserver,
  CoordinationStore,
  FailAnswer,
  FailRequest,
  FailureRecord,
  LeaseAnswer,
  LeaseRequest,
  StoreAnswer,
  StoredRecord,
  StoreRequest,
} from './coordination/store.js';
export type { CryptoKeyLike } from './coordination/web-crypto.js';
export type { RedisClient } from './redis/redis-store.js';
export { createRedisCoordinator, type RedisCoordinatorOptions } from './redis-coordinator.js';
