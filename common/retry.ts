/**
 * The one retry helper: exponential backoff with full jitter. Errors that are
 * not retriable end the retries at once; the final error tells how many
 * attempts were made. The clock and randomness are injectable for tests.
 */
import { setTimeout as sleep } from 'node:timers/promises';
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

export interface RetryOptions extends Partial<BackoffOptions> {
  /** Attempts in all, the first included; Infinity retries until success or abort. @defaultValue 5 */
  attempts?: number;
  /** Whether an error may succeed on a later attempt. @defaultValue AuditError.retriable, true for other errors */
  isRetriable?: (error: unknown) => boolean;
  /** Called before each wait, for logs and metrics. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  signal?: AbortSignal;
}

function defaultRetriable(error: unknown): boolean {
  return error instanceof AuditError ? error.retriable : true;
}

export async function retry<T>(
  operation: (attempt: number) => Promise<T> | T,
  options: RetryOptions = {},
): Promise<T> {
  const attempts = options.attempts ?? 5;
  const backoff = { ...BACKOFF_DEFAULTS, ...options };
  const isRetriable = options.isRetriable ?? defaultRetriable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await operation(attempt);
    } catch (error) {
      if (!isRetriable(error) || attempt >= attempts || options.signal?.aborted === true) {
        if (attempt === 1 || !isRetriable(error)) throw error;
        throw new AuditError(
          error instanceof AuditError ? error.code : AuditErrorCode.Io,
          `gave up after ${attempt} attempts: ${(error as Error).message}`,
          { cause: error, retriable: true },
        );
      }
      const delay = backoffDelay(attempt, backoff);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, undefined, { signal: options.signal }).catch(() => undefined);
    }
  }
}
