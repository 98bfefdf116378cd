/**
 * Reads events back from the archive: object by object in key order (per
 * partition, offset order), each decoded into the current schema. Only one
 * object is held in memory at a time.
 */
import { AuditErrorCode, CodecError, StorageError } from '../../common/errors.js';
import { readContainerBatches } from '../../schemas/container.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { BATCH_ROWS, recordBatches, type RecordBatches } from '../../schemas/record-batches.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { classifyArchiveKey, partitionId } from '../archiver/archive-key.js';
import type { ObjectStore } from '../object-store/object-store.js';

export interface ArchiveReadOptions {
  prefix: string;
  schemas?: SchemaSet;
  /** Only these partitions (`topic/partition`); all when absent. */
  expected?: readonly string[] | undefined;
  /** Only these objects (e.g. those verify accepted); all archive objects when absent. */
  keys?: ReadonlySet<string> | undefined;
}

/**
 * The archive objects under `prefix`, classified as verify classifies them:
 * a key that is not exactly an archive object key (a copy under a nested
 * folder, another prefix) is never read.
 */
export async function* archiveObjectKeys(
  store: ObjectStore,
  prefix: string,
  expected?: readonly string[],
): AsyncGenerator<string> {
  const only = expected === undefined ? undefined : new Set(expected);
  for await (const key of store.list(`${prefix}/dt=`)) {
    const kind = classifyArchiveKey(prefix, key);
    if (kind.kind !== 'object') continue;
    if (only !== undefined && !only.has(partitionId(kind.object.topic, kind.object.partition)))
      continue;
    yield key;
  }
}

/** Every event of the archive objects, object by object (RecordBatches: an export renders a batch at a time). */
export function readArchive(store: ObjectStore, options: ArchiveReadOptions): RecordBatches {
  return recordBatches(() => archiveBatches(store, options));
}

async function* archiveBatches(
  store: ObjectStore,
  options: ArchiveReadOptions,
): AsyncGenerator<AuditEventRecord[]> {
  const schemas = options.schemas ?? auditEventSchemas();
  for await (const key of archiveObjectKeys(store, options.prefix, options.expected)) {
    if (options.keys !== undefined && !options.keys.has(key)) continue;
    const bytes = await store.get(key);
    try {
      yield* readContainerBatches<AuditEventRecord>(bytes, schemas, BATCH_ROWS);
    } catch (error) {
      if (error instanceof CodecError) {
        throw new StorageError(
          AuditErrorCode.ArchiveCorrupt,
          `archive object ${key} cannot be read: ${error.message}`,
          {
            cause: error,
          },
        );
      }
      throw error;
    }
  }
}
