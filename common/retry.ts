/**
 * The one retry helper: exponential backoff with full jitter, under named
 * policies. Errors that are not retriable end the retries at once; an abort
 * ends them at once too (no further attempt); a deadline ends them with a
 * retriable TIMEOUT when the next wait would pass it; the final error tells
 * how many attempts were made. The clock and randomness are injectable, so
 * tests run the waits on a fake clock.
 */
import { sleepUnlessAborted } from './abort.js';
import { AuditError, AuditErrorCode } from './errors.js';

export interface BackoffOptions {
  /** Delay before the first retry. @defaultValue 100 */
  initialMs: number;
  /** Upper bound of one delay. @defaultValue 10000 */
  maxMs: number;
  /** Growth per attempt. @defaultValue 2 */
  factor: number;
}

export const BACKOFF_DEFAULTS = {
  initialMs: 100,
  maxMs: 10_000,
  factor: 2,
} as const satisfies BackoffOptions;

/** A named way of retrying: its backoff and how many attempts in all. */
export interface RetryPolicy extends BackoffOptions {
  /** Attempts in all, the first included; Infinity retries until success, abort or deadline. */
  attempts: number;
}

/**
 * Every retry loop of the pipeline, in one place. Waits are uniform in
 * [0, min(maxMs, initialMs * factor^(attempt-1))].
 */
export const RETRY_POLICIES = {
  /** The producer's shipper, spool to topic: retries until the broker is back or the transport closes. */
  shipping: { initialMs: 200, maxMs: 5000, factor: 2, attempts: Infinity },
  /** The archiver's writes to the object store: as long as the archiver runs. */
  storeWrite: { initialMs: 200, maxMs: 5000, factor: 2, attempts: Infinity },
  /** The archiver's writes once it stops (the open batches): a few quick attempts, so the stop ends. */
  storeWriteStopping: { initialMs: 50, maxMs: 200, factor: 2, attempts: 3 },
  /** `addEventWhenRoom` waiting for the shipper to make room in a full spool; bounded by its deadline. */
  backpressure: { initialMs: 20, maxMs: 1000, factor: 2, attempts: Infinity },
  /** One S3 request (network errors, throttling, 5xx); the count is the store's `attempts` option. */
  s3Request: { initialMs: 100, maxMs: 2000, factor: 2, attempts: 4 },
  /** Connecting, or joining a group again, after the server dropped the client. */
  connect: { initialMs: 500, maxMs: 5000, factor: 2, attempts: 5 },
  /**
   * kafkajs' own retries of one connection or request, in the clients the
   * command line makes for producing and for admin requests: a few quick
   * ones, so that a broker that is down reaches our code (and its log and
   * error) in about a second; the caller's policy (`shipping`) retries after
   * that. The archiver's consumer keeps kafkajs' longer defaults.
   */
  kafkaClient: { initialMs: 100, maxMs: 1000, factor: 2, attempts: 3 },
  /**
   * A transaction's first request while the coordinator still writes the
   * markers of the previous transaction of the same id (CONCURRENT_TRANSACTIONS):
   * it is done within milliseconds.
   */
  transactionBusy: { initialMs: 20, maxMs: 500, factor: 2, attempts: 10 },
  /** Opening a spool that another process holds (SPOOL_LOCKED) for a short while. */
  spoolLock: { initialMs: 100, maxMs: 1000, factor: 2, attempts: 20 },
} as const satisfies Record<string, RetryPolicy>;

/** Delay before retry number `attempt` (1-based): uniform in [0, min(max, initial * factor^(attempt-1))]. */
export function backoffDelay(
  attempt: number,
  options: BackoffOptions = BACKOFF_DEFAULTS,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(
    options.maxMs,
    options.initialMs * options.factor ** Math.max(0, attempt - 1),
  );
  return Math.round(random() * ceiling);
}

/** Time as the retrier sees it; tests inject a fake one. */
export interface RetryClock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts (it must not reject). */
  sleep(ms: number, signal?: AbortSignal): Promise<void>;
}

export const SYSTEM_CLOCK: RetryClock = {
  now: () => Date.now(),
  sleep: sleepUnlessAborted,
};

export interface RetryOptions extends Partial<BackoffOptions> {
  /** Backoff and attempts; the other fields here override it. @defaultValue 5 attempts, BACKOFF_DEFAULTS */
  policy?: RetryPolicy;
  /** Attempts in all, the first included; Infinity retries until success, abort or deadline. */
  attempts?: number;
  /** Whether an error may succeed on a later attempt. @defaultValue AuditError.retriable, true for other errors */
  isRetriable?: (error: unknown) => boolean;
  /** Called before each wait, for logs and metrics. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Aborting ends the retries at once: the wait is cut short and no further attempt runs. */
  signal?: AbortSignal;
  /**
   * Time (on `clock`) after which no attempt starts: when the next wait would
   * pass it, the retries end with a retriable TIMEOUT whose cause is the last error.
   */
  deadline?: number;
  /** @defaultValue SYSTEM_CLOCK */
  clock?: RetryClock;
  /** @defaultValue Math.random */
  random?: () => number;
}

function defaultRetriable(error: unknown): boolean {
  return error instanceof AuditError ? error.retriable : true;
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Runs `operation` until it succeeds or the retries end. What ends them, and
 * what is thrown then: a non-retriable error (itself), an abort (the last
 * error, or the signal's reason if no attempt ran), the last attempt ("gave up
 * after N attempts", same code, retriable), the deadline (TIMEOUT, retriable).
 */
export async function retry<T>(
  operation: (attempt: number) => Promise<T> | T,
  options: RetryOptions = {},
): Promise<T> {
  const policy = options.policy;
  const attempts = options.attempts ?? policy?.attempts ?? 5;
  const backoff: BackoffOptions = {
    initialMs: options.initialMs ?? policy?.initialMs ?? BACKOFF_DEFAULTS.initialMs,
    maxMs: options.maxMs ?? policy?.maxMs ?? BACKOFF_DEFAULTS.maxMs,
    factor: options.factor ?? policy?.factor ?? BACKOFF_DEFAULTS.factor,
  };
  const isRetriable = options.isRetriable ?? defaultRetriable;
  const clock = options.clock ?? SYSTEM_CLOCK;
  const random = options.random ?? Math.random;
  const signal = options.signal;
  // read through a function: the signal changes while the attempts run
  const aborted = (): boolean => signal?.aborted === true;
  if (signal !== undefined && aborted()) throw signal.reason;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetriable(error) || aborted()) throw error;
      if (attempt >= attempts) {
        if (attempt === 1) throw error;
        throw new AuditError(
          error instanceof AuditError ? error.code : AuditErrorCode.Io,
          `gave up after ${attempt} attempts: ${messageOf(error)}`,
          { cause: error, retriable: true },
        );
      }
      const delay = backoffDelay(attempt, backoff, random);
      if (options.deadline !== undefined && clock.now() + delay > options.deadline) {
        throw new AuditError(
          AuditErrorCode.Timeout,
          `gave up after ${attempt} attempt${attempt === 1 ? '' : 's'} at the deadline: ${messageOf(error)}`,
          { cause: error, retriable: true },
        );
      }
      options.onRetry?.(error, attempt, delay);
      await clock.sleep(delay, signal);
      if (aborted()) throw error;
    }
  }
}
