/**
 * The coordination contract over Redis with ioredis: the atomic steps as Lua scripts
 * (`scripts.ts`), notifications over one pub/sub channel per key prefix on a connection of
 * its own (a duplicate of the caller's client, closed by `close()`), and a resync whenever
 * that subscription or the caller's client comes back after a drop.
 */

import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import { sanitizeStoreError } from '../coordination/errors.js';
import type {
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
} from '../coordination/store.js';
import { credentialKeys, eventsChannel } from './keys.js';
import { FAIL, LOAD_OR_LEASE, RELEASE, RENEW, STORE } from './scripts.js';

/** The ioredis client a coordinator is given: a `Redis` or a `Cluster`. */
export type RedisClient = Redis | Cluster;

/** What the store uses of an ioredis client (both `Redis` and `Cluster` have it). */
interface ScriptClient {
  status: string;
  evalsha(sha: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
  eval(script: string, numkeys: number, ...args: Array<string | number>): Promise<unknown>;
  on(event: string, listener: (...args: unknown[]) => void): unknown;
  once(event: string, listener: (...args: unknown[]) => void): unknown;
  off(event: string, listener: (...args: unknown[]) => void): unknown;
  duplicate(): SubscriberClient;
  connect?(): Promise<void>;
}

interface TimeClient {
  time(): Promise<unknown>;
}

interface SubscriberClient {
  status: string;
  subscribe(channel: string): Promise<unknown>;
  on(event: string, listener: (...args: never[]) => void): unknown;
  disconnect(): void;
  once(event: string, listener: () => void): unknown;
}

interface Script {
  readonly source: string;
  readonly sha: string;
}

const script = (source: string): Script =>
  Object.freeze({ source, sha: createHash('sha1').update(source).digest('hex') });

const SCRIPTS = {
  loadOrLease: script(LOAD_OR_LEASE),
  renew: script(RENEW),
  store: script(STORE),
  fail: script(FAIL),
  release: script(RELEASE),
};

/** Connection states in which a command cannot reach Redis until a reconnect. */
const DOWN = new Set(['reconnecting', 'close', 'end']);
/** How long `close()` waits for the subscriber connection to end, in milliseconds. */
const CLOSE_WAIT_MS = 1_000;

/** Options of {@link createRedisStore}. */
export interface RedisStoreOptions {
  /** The caller's client; it stays open. */
  readonly redis: RedisClient;
  /** The key prefix (validated by the caller). */
  readonly keyPrefix: string;
  /** Receives errors of the subscriber connection. */
  readonly onSubscriberError?: (error: unknown) => void;
}

/**
 * The {@link CoordinationStore} over Redis.
 * @internal exported for the coordinator and the tests; use `createRedisCoordinator`.
 */
export function createRedisStore(options: RedisStoreOptions): CoordinationStore {
  return new RedisStore(options);
}

class RedisStore implements CoordinationStore {
  readonly #redis: ScriptClient;
  readonly #prefix: string;
  readonly #channel: string;
  readonly #onSubscriberError: (error: unknown) => void;
  #subscriber: SubscriberClient | undefined;
  #observers = new Set<ChangeObserver>();
  #detach: (() => void) | undefined;
  #closed = false;
  /** The one pending wait for the connection, shared by every caller of {@link whenUp}. */
  #up: Promise<void> | undefined;
  #stopWaitingUp: (() => void) | undefined;

  constructor(options: RedisStoreOptions) {
    this.#redis = options.redis as unknown as ScriptClient;
    this.#prefix = options.keyPrefix;
    this.#channel = eventsChannel(options.keyPrefix);
    const onSubscriberError = options.onSubscriberError ?? (() => {});
    this.#onSubscriberError = (error) => onSubscriberError(sanitizeStoreError(error));
  }

  connection(): 'up' | 'down' | 'connecting' {
    const status = this.#redis.status;
    if (status === 'ready') return 'up';
    return DOWN.has(status) ? 'down' : 'connecting';
  }

  /**
   * Resolves once the caller's client is ready. However many callers wait, the client gets
   * one `ready` and one `end` listener, removed when the wait ends or the store closes. A
   * client created with `lazyConnect: true` (status `wait`) is connected here, on first use.
   */
  whenUp(): Promise<void> {
    const redis = this.#redis;
    if (redis.status === 'ready') return Promise.resolve();
    if (this.#closed) return Promise.reject(new Error('the coordination store is closed'));
    this.#up ??= new Promise<void>((resolve, reject) => {
      const done = (): void => {
        redis.off('ready', onReady);
        redis.off('end', onEnd);
        this.#up = undefined;
        this.#stopWaitingUp = undefined;
      };
      const onReady = (): void => {
        done();
        resolve();
      };
      const onEnd = (): void => {
        done();
        reject(new Error('the connection ended'));
      };
      redis.on('ready', onReady);
      redis.on('end', onEnd);
      this.#stopWaitingUp = () => {
        done();
        reject(new Error('the coordination store is closed'));
      };
      if (redis.status === 'wait' && typeof redis.connect === 'function') {
        // lazyConnect: nothing else would ever connect it (we wait for `ready` before sending).
        redis.connect().catch(() => {
          // reported through the caller's own `error` listener; our wait times out
        });
      }
    });
    return this.#up;
  }

  async loadOrLease(ref: string, request: LeaseRequest): Promise<LeaseAnswer> {
    const reply = strings(
      await this.#eval(SCRIPTS.loadOrLease, ref, [
        request.token,
        request.leaseMs,
        request.instanceId,
        request.maxFailureWindowMs,
        request.ignoreFailure === true ? '1' : '0',
        ...request.exclude,
      ]),
    );
    const [kind, now] = reply;
    const storeNow = Number(now);
    switch (kind) {
      case 'value':
        return { kind, now: storeNow, record: recordFrom(reply, 2) as StoredRecord };
      case 'failed': {
        const failure: FailureRecord = {
          retryAt: Number(reply[2]),
          failures: Number(reply[3]),
          keyId: reply[4] ?? '',
          payload: reply[5] ?? '',
        };
        return { kind, now: storeNow, failure };
      }
      case 'leased':
        return { kind, now: storeNow, leaseTtlMs: Number(reply[2]) };
      case 'lease':
        return { kind, now: storeNow, storedId: reply[2] === '' ? undefined : reply[2] };
      default:
        throw new TypeError(`unexpected load-or-lease reply ${String(kind)}`);
    }
  }

  async renew(ref: string, token: string, leaseMs: number): Promise<boolean> {
    return Number(await this.#eval(SCRIPTS.renew, ref, [token, leaseMs])) === 1;
  }

  async store(ref: string, request: StoreRequest): Promise<StoreAnswer> {
    const { record } = request;
    const reply = strings(
      await this.#eval(SCRIPTS.store, ref, [
        request.token,
        record.id,
        formatTime(record.expiresAt),
        formatTime(record.dueAt),
        record.generation,
        record.keyId,
        record.payload,
        this.#channel,
        message('stored', ref),
        ...request.replaceable,
      ]),
    );
    const [outcome, now] = reply;
    if (outcome === 'stored') return { outcome, now: Number(now) };
    if (outcome !== 'refused' && outcome !== 'expired') {
      throw new TypeError(`unexpected store reply ${String(outcome)}`);
    }
    return { outcome, now: Number(now), current: recordFrom(reply, 2) };
  }

  async fail(ref: string, request: FailRequest): Promise<FailAnswer> {
    const reply = strings(
      await this.#eval(SCRIPTS.fail, ref, [
        request.token,
        request.instanceId,
        request.seenId ?? '',
        request.keyId,
        request.payload,
        request.initialWindowMs,
        request.maxWindowMs,
        request.jitterSample,
        request.stickyMs,
        this.#channel,
        message('failed', ref),
      ]),
    );
    const [outcome, now] = reply;
    if (outcome === 'superseded') return { outcome, now: Number(now) };
    return {
      outcome: 'recorded',
      now: Number(now),
      retryAt: Number(reply[2]),
      failures: Number(reply[3]),
      confirmed: reply[4] === '1',
    };
  }

  async release(ref: string, token: string): Promise<boolean> {
    const reply = await this.#eval(SCRIPTS.release, ref, [
      token,
      this.#channel,
      message('released', ref),
    ]);
    return Number(reply) === 1;
  }

  async time(): Promise<number> {
    let reply: unknown;
    try {
      reply = await (this.#redis as unknown as TimeClient).time();
    } catch (error) {
      throw sanitizeStoreError(error);
    }
    const [seconds, micros] = strings(reply);
    return Number(seconds) * 1000 + Math.floor(Number(micros) / 1000);
  }

  watch(observer: ChangeObserver): () => void {
    if (this.#closed) return () => {};
    this.#observers.add(observer);
    this.#subscribe();
    return () => {
      this.#observers.delete(observer);
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#observers.clear();
    this.#stopWaitingUp?.();
    this.#detach?.();
    this.#detach = undefined;
    const subscriber = this.#subscriber;
    this.#subscriber = undefined;
    if (subscriber === undefined || subscriber.status === 'end') return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, CLOSE_WAIT_MS);
      timer.unref?.();
      subscriber.once('end', () => {
        clearTimeout(timer);
        resolve();
      });
      subscriber.disconnect();
    });
  }

  /** Opens the subscriber connection once and wires resyncs on both connections. */
  #subscribe(): void {
    if (this.#subscriber !== undefined || this.#closed) return;
    const subscriber = this.#redis.duplicate();
    this.#subscriber = subscriber;
    const channel = this.#channel;
    const onMessage = (from: string, text: string): void => {
      if (from !== channel) return;
      const space = text.indexOf(' ');
      if (space < 0) return;
      const kind = text.slice(0, space) as ChangeKind;
      const ref = text.slice(space + 1);
      for (const observer of this.#observers) observer.onChange(ref, kind);
    };
    let subscribedOnce = false;
    const onSubscriberReady = (): void => {
      // ioredis resubscribes by itself on reconnect; messages published meanwhile were lost.
      if (subscribedOnce) this.#resync();
    };
    subscriber.on('message', onMessage as (...args: never[]) => void);
    subscriber.on('ready', onSubscriberReady);
    subscriber.on('error', ((error: unknown) => this.#onSubscriberError(error)) as (
      ...args: never[]
    ) => void);
    subscriber.subscribe(channel).then(
      () => {
        subscribedOnce = true;
        this.#resync();
      },
      (error: unknown) => this.#onSubscriberError(error),
    );
    // The caller's client: after a reconnect, re-read (the store may have changed, or been
    // restarted empty). Only `ready` is listened to: its errors stay the caller's business.
    let wasDown = false;
    const onClientClose = (): void => {
      wasDown = true;
    };
    const onClientReady = (): void => {
      if (!wasDown) return;
      wasDown = false;
      this.#resync();
    };
    this.#redis.on('close', onClientClose);
    this.#redis.on('ready', onClientReady);
    this.#detach = () => {
      this.#redis.off('close', onClientClose);
      this.#redis.off('ready', onClientReady);
    };
  }

  #resync(): void {
    if (this.#closed) return;
    for (const observer of this.#observers) observer.onResync();
  }

  async #eval(s: Script, ref: string, args: Array<string | number>): Promise<unknown> {
    const keys = credentialKeys(this.#prefix, ref);
    const all = [keys.credential, keys.lease, keys.failure, ...args];
    // ioredis attaches the command's arguments (values, ciphertexts, lease tokens) to its
    // errors: only a sanitised copy (name, message, code, command name) leaves this store.
    try {
      return await this.#redis.evalsha(s.sha, 3, ...all);
    } catch (error) {
      if (!isNoScript(error)) throw sanitizeStoreError(error);
    }
    try {
      return await this.#redis.eval(s.source, 3, ...all);
    } catch (error) {
      throw sanitizeStoreError(error);
    }
  }
}

function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT');
}

function strings(reply: unknown): string[] {
  if (!Array.isArray(reply)) throw new TypeError('unexpected script reply');
  return reply.map((item) => (item === null || item === undefined ? '' : String(item)));
}

function recordFrom(reply: readonly string[], at: number): StoredRecord | undefined {
  const id = reply[at];
  if (id === undefined || id === '') return undefined;
  return {
    id,
    expiresAt: parseTime(reply[at + 1]),
    dueAt: parseTime(reply[at + 2]),
    generation: reply[at + 3] ?? '0',
    keyId: reply[at + 4] ?? '',
    payload: reply[at + 5] ?? '',
  };
}

function parseTime(text: string | undefined): number {
  return text === 'inf' ? Number.POSITIVE_INFINITY : Number(text);
}

function formatTime(time: number): string {
  return time === Number.POSITIVE_INFINITY ? 'inf' : String(Math.round(time));
}

function message(kind: ChangeKind, ref: string): string {
  return `${kind} ${ref}`;
}
