/**
 * Records that can also be taken a batch at a time. An export reads the
 * archive a container block at a time; handing the renderer an array of rows
 * instead of one row per step of an async iterator saves a promise, a tick and
 * a stream chunk per row, and lets one rendered chunk hold many rows.
 *
 * Either way of reading gives the same records in the same order, once.
 */
import { AuditError, AuditErrorCode } from '../common/errors.js';
import type { AuditEventRecord } from './event-record.js';

/** Rows of one batch at most: bounds the rows decoded ahead of the writer and the size of one rendered chunk. */
export const BATCH_ROWS = 1000;

export interface RecordBatches extends AsyncIterable<AuditEventRecord> {
  /** The same records as arrays of 1 to BATCH_ROWS rows. */
  batches(): AsyncIterable<readonly AuditEventRecord[]>;
}

/** Records read from `source`, which is started at most once (by `batches()` or by iterating). */
export function recordBatches(
  source: () => AsyncIterable<readonly AuditEventRecord[]>,
): RecordBatches {
  let started = false;
  const start = (): AsyncIterable<readonly AuditEventRecord[]> => {
    if (started)
      throw new AuditError(AuditErrorCode.InvalidState, 'these records have been read already');
    started = true;
    return source();
  };
  return {
    batches: start,
    async *[Symbol.asyncIterator]() {
      for await (const batch of start()) yield* batch;
    },
  };
}

export function isRecordBatches(value: unknown): value is RecordBatches {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Partial<RecordBatches>).batches === 'function'
  );
}

/** Arrays of at most BATCH_ROWS consecutive items of `items`, none empty. */
export function* sliceBatches<T>(items: readonly T[]): Generator<T[]> {
  for (let start = 0; start < items.length; start += BATCH_ROWS)
    yield items.slice(start, start + BATCH_ROWS);
}

/**
 * Batches of any records: the batches of RecordBatches; slices of a
 * synchronous iterable (an array in memory); one row per batch for any other
 * async iterable, whose next row may be a long time coming and must not wait
 * for the ones after it.
 */
export async function* batchesOf(
  records: AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>,
): AsyncGenerator<readonly AuditEventRecord[]> {
  if (isRecordBatches(records)) {
    yield* records.batches();
  } else if (Symbol.iterator in records) {
    let batch: AuditEventRecord[] = [];
    for (const record of records) {
      batch.push(record);
      if (batch.length === BATCH_ROWS) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  } else {
    for await (const record of records) yield [record];
  }
}
