/**
 * Reads events back from the archive: object by object in key order (per
 * partition, offset order), each decoded into the current schema. Only one
 * object is held in memory at a time.
 */
import { AuditErrorCode, CodecError, StorageError } from '../../common/errors.js';
import { readContainerRecords } from '../../schemas/container.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { parseArchiveKey } from '../archiver/archive-key.js';
import type { ObjectStore } from '../object-store/object-store.js';

export interface ArchiveReadOptions {
  prefix: string;
  schemas?: SchemaSet;
}

export async function* archiveObjectKeys(
  store: ObjectStore,
  prefix: string,
): AsyncGenerator<string> {
  for await (const key of store.list(`${prefix}/dt=`))
    if (parseArchiveKey(key) !== undefined) yield key;
}

export async function* readArchive(
  store: ObjectStore,
  options: ArchiveReadOptions,
): AsyncGenerator<AuditEventRecord> {
  const schemas = options.schemas ?? auditEventSchemas();
  for await (const key of archiveObjectKeys(store, options.prefix)) {
    const bytes = await store.get(key);
    try {
      yield* readContainerRecords<AuditEventRecord>(bytes, schemas);
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
