/**
 * Streams records in an export format to a file (atomically) or to any writable.
 * Memory stays flat: each stage waits for the next (stream backpressure).
 */
import { createWriteStream } from 'node:fs';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { writeFileAtomically } from '../common/atomic-file.js';
import { AuditError, AuditErrorCode, StorageError } from '../common/errors.js';
import type { AuditEventRecord } from './event-record.js';
import { batchesOf } from './record-batches.js';
import {
  EMPTY_JSON_ARRAY_END,
  type ExportFormat,
  JSON_ARRAY_END,
  JSON_ARRAY_START,
  renderCsvRows,
  renderJsonElements,
  renderNdjsonLines,
} from './render.js';

type Records = AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>;

/** The export text, one chunk per batch of records (see batchesOf). */
async function* exportChunks(format: ExportFormat, records: Records): AsyncGenerator<string> {
  let first = true;
  if (format === 'json') yield JSON_ARRAY_START;
  for await (const batch of batchesOf(records)) {
    if (format === 'csv') yield renderCsvRows(batch, first);
    else if (format === 'json') yield renderJsonElements(batch, first);
    else yield renderNdjsonLines(batch);
    first = false;
  }
  if (format === 'json') yield first ? EMPTY_JSON_ARRAY_END : JSON_ARRAY_END;
  else if (format === 'csv' && first) yield renderCsvRows([], true);
}

/**
 * Writes `records` rendered as `format` into `destination` and ends it.
 * RecordBatches (an export's records) and arrays are rendered many rows to a
 * chunk; any other async iterable one row to a chunk, as each arrives.
 */
export async function writeExport(
  format: ExportFormat,
  records: Records,
  destination: Writable,
): Promise<void> {
  await pipeline(Readable.from(exportChunks(format, records)), destination);
}

/** Writes `records` as `format` into the file at `path`, replacing it atomically. */
export async function exportToFile(
  path: string,
  format: ExportFormat,
  records: Records,
): Promise<void> {
  try {
    await writeFileAtomically(path, (temp) =>
      writeExport(format, records, createWriteStream(temp)),
    );
  } catch (cause) {
    if (cause instanceof AuditError) throw cause;
    throw new StorageError(AuditErrorCode.Io, `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
}
