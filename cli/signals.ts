import type { AuditError } from '../common/errors.js';

/** The stop of a long-running command: SIGTERM or SIGINT, as an AbortSignal. */
export function untilSignal(): { signal: AbortSignal; dispose: () => void } {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return {
    signal: stop.signal,
    dispose: () => {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

/** A group member a command runs: the exporter, the SIEM feed, the monitor. */
export interface RunningMember {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves with the fault that ended the member. */
  readonly failed: Promise<AuditError>;
  readonly failure: AuditError | undefined;
}

/**
 * Starts `member` and runs it until `signal` (SIGTERM/SIGINT) or a fault ends
 * it, then stops it; throws the fault, if any.
 */
export async function runMemberUntil(member: RunningMember, signal: AbortSignal): Promise<void> {
  try {
    await member.start();
    await Promise.race([
      member.failed,
      new Promise((resolve) =>
        signal.aborted
          ? resolve(undefined)
          : signal.addEventListener('abort', resolve, { once: true }),
      ),
    ]);
  } finally {
    await member.stop();
  }
  // a kafkajs client that lost its broker may still hold a reconnect timer
  setTimeout(() => process.exit(), 1000).unref();
  if (member.failure !== undefined) throw member.failure;
}
