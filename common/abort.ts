/** Waits that an abort signal cuts short. */
import { setTimeout as sleep } from 'node:timers/promises';

/** Whether `error` is the rejection of a wait cut short by its abort signal. */
export function isAbort(error: unknown): boolean {
  return error instanceof Error && error.name === 'AbortError';
}

/** Resolves after `ms`, or at once when `signal` aborts; other failures are thrown. */
export async function sleepUnlessAborted(ms: number, signal?: AbortSignal): Promise<void> {
  await sleep(ms, undefined, { signal }).catch((error: unknown) => {
    if (!isAbort(error)) throw error;
  });
}

/**
 * Resolves when `event` settles, after `ms`, or when `signal` aborts, whichever
 * comes first, and then drops its timer and its abort listener: a loop that
 * waits on it again and again leaves nothing behind on a long-lived signal.
 */
export function settledOrTimeout(
  event: Promise<unknown>,
  ms: number,
  signal?: AbortSignal,
): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    if (signal?.aborted === true) return done();
    signal?.addEventListener('abort', done, { once: true });
    event.then(done, done);
  });
}
