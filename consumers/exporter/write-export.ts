/**
 * Streams records in an export format to a file (atomically) or to any writable.
 * Memory stays flat: each stage waits for the next (stream backpressure).
 */
import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Readable, type Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { AuditError, AuditErrorCode, StorageError } from '../../common/errors.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
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

/**
 * Writes a file so that a crash leaves either the previous file or the new
 * complete one: a temporary file beside it, fsync, rename, fsync of the folder.
 */
export async function writeFileAtomically(
  path: string,
  write: (destination: Writable) => Promise<void>,
): Promise<void> {
  const folder = dirname(path);
  const temp = join(
    folder,
    `.${basename(path)}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`,
  );
  try {
    await write(createWriteStream(temp));
    const handle = await open(temp, 'r+');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, path);
  } catch (cause) {
    await unlink(temp).catch(() => undefined);
    if (cause instanceof AuditError) throw cause;
    throw new StorageError(AuditErrorCode.Io, `cannot write ${path}: ${(cause as Error).message}`, {
      cause,
    });
  }
  const dir = await open(folder, 'r');
  try {
    await dir.sync();
  } finally {
    await dir.close();
  }
}

export async function exportToFile(
  path: string,
  format: ExportFormat,
  records: Records,
): Promise<void> {
  await writeFileAtomically(path, (destination) => writeExport(format, records, destination));
}
