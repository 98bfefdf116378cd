/** When a per-partition batch is closed and written (pure). */
import { ConfigError } from '../../common/errors.js';

export interface BatchPolicy {
  /** Close a batch at this many events. @defaultValue 10000 */
  maxEvents: number;
  /** Close a batch when its encoded events reach this many bytes. @defaultValue 8 MiB */
  maxBytes: number;
  /** Close a batch this long after its first record arrived. @defaultValue 60000 (one minute) */
  maxAgeMs: number;
}

export const BATCH_DEFAULTS = {
  maxEvents: 10_000,
  maxBytes: 8 * 1024 * 1024,
  maxAgeMs: 60_000,
} as const satisfies BatchPolicy;

export function batchPolicy(options: Partial<BatchPolicy> = {}): BatchPolicy {
  const policy = { ...BATCH_DEFAULTS, ...options };
  for (const [field, value] of Object.entries(policy)) {
    if (!Number.isInteger(value) || value <= 0)
      throw new ConfigError(`batch.${field}`, `must be a positive integer, got ${String(value)}`);
  }
  return policy;
}

export interface OpenBatch {
  events: number;
  bytes: number;
  /** Wall-clock time the first record was added. */
  openedAt: number;
}

export type RotateReason = 'events' | 'bytes' | 'age';

/** Why `batch` must be written now, or undefined if it may take more records. */
export function rotationDue(
  policy: BatchPolicy,
  batch: OpenBatch,
  now: number,
): RotateReason | undefined {
  if (batch.events >= policy.maxEvents) return 'events';
  if (batch.bytes >= policy.maxBytes) return 'bytes';
  if (batch.events > 0 && now - batch.openedAt >= policy.maxAgeMs) return 'age';
  return undefined;
}
