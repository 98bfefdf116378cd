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
import { EXPORT_TEXT, type ExportFormat } from './render.js';

type Records = AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>;

/**
 * Characters of one chunk, at which it is cut (a chunk ends with the run of
 * rows that reaches it, sized by the rows before it: a little past, as a rule).
 * A string past 128 KiB is a large object to V8: alive at a scavenge, it goes
 * straight to the old generation, where only a full collection frees it, so a
 * long export of large chunks would grow the heap with its length. 32 Ki
 * characters stay under that size also as UTF-16 text, save for a chunk whose
 * last row is itself that long.
 */
export const CHUNK_CHARS = 32 * 1024;

/** Characters per row assumed before any row is rendered: more than most rows hold. */
const FIRST_ROW_CHARS = 1024;

/**
 * The export text in chunks: the rows of each batch (see batchesOf) rendered
 * in runs, each of as many rows as fill the chunk up to CHUNK_CHARS at the
 * mean length of the rows rendered so far; a chunk goes out once it is that
 * long, and at the end of a batch (a batch never waits for the next one).
 */
async function* exportChunks(format: ExportFormat, records: Records): AsyncGenerator<string> {
  const { start, rows, end } = EXPORT_TEXT[format];
  let text = start;
  let done = 0;
  let chars = 0;
  for await (const batch of batchesOf(records)) {
    for (let at = 0; at < batch.length;) {
      const rowChars = done === 0 ? FIRST_ROW_CHARS : chars / done;
      const count = Math.max(1, Math.floor((CHUNK_CHARS - text.length) / rowChars));
      const run = rows(batch.slice(at, at + count), done === 0);
      done += Math.min(count, batch.length - at);
      chars += run.length;
      at += count;
      text += run;
      if (text.length >= CHUNK_CHARS) {
        yield text;
        text = '';
      }
    }
    if (text.length > 0) yield text;
    text = '';
  }
  text += end(done === 0);
  if (text.length > 0) yield text;
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
  // one chunk read ahead: chunks wait in the writer's buffer, not here
  await pipeline(Readable.from(exportChunks(format, records), { highWaterMark: 1 }), destination);
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
