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
