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
import {
  csvStringifier,
  type ExportFormat,
  renderJsonArray,
  renderNdjson,
  toCsvRow,
} from './render.js';

type Records = AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>;

async function* csvRows(records: Records): AsyncGenerator<string[]> {
  for await (const record of records) yield toCsvRow(record);
}

/** Writes `records` rendered as `format` into `destination` and ends it. */
export async function writeExport(
  format: ExportFormat,
  records: Records,
  destination: Writable,
): Promise<void> {
  if (format === 'csv') {
    await pipeline(Readable.from(csvRows(records)), csvStringifier(), destination);
  } else {
    const text = format === 'json' ? renderJsonArray(records) : renderNdjson(records);
    await pipeline(Readable.from(text), destination);
  }
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
