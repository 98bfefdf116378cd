/**
 * The archiver of the embedded pipeline: drains the local spool (one partition)
 * into the object store. Progress lives in the archive; spool segments are
 * released once every record in them is archived.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import type { ContainerCodec } from '../../schemas/container.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { SpoolReader } from '../../common/spool/spool-reader.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { type BatchPolicy, batchPolicy } from './batch-policy.js';
import { PartitionDigester } from './digester.js';
import {
  type DeadLetterHandler,
  PartitionArchiver,
  type SourceRecord,
  type WrittenObject,
} from './partition-archiver.js';
import { silentLogger } from '../../common/logger.js';

export const LOCAL_TOPIC = 'audit.events';
export const LOCAL_PARTITION = 0;
export const DEFAULT_PREFIX = 'events';

export interface SpoolArchiverOptions {
  spoolDir: string;
  store: ObjectStore;
  /** Key prefix of archive objects. @defaultValue 'events' */
  prefix?: string;
  batch?: Partial<BatchPolicy>;
  /** @defaultValue 'deflate' */
  codec?: ContainerCodec;
  /** How long to wait when the spool has nothing new. @defaultValue 200 ms */
  pollMs?: number;
  /** Records read from the spool per step. @defaultValue 5000 */
  readRecords?: number;
  /** Ed25519 key that signs the digests; no digests without it. */
  signingKey?: KeyObject | undefined;
  /** Length of a digest interval. @defaultValue 3600000 (one hour) */
  digestIntervalMs?: number | undefined;
  logger?: Logger;
  schemas?: SchemaSet;
}

export interface ArchiveStats {
  /** Records read from the spool (events, duplicates and dead letters). */
  records: number;
  /** Events in the objects this archiver wrote. */
  events: number;
  objects: number;
  /** Duplicates dropped and dead letters, in the ranges of the objects written. */
  duplicatesDropped: number;
  deadLetters: number;
}

/** Dead letters of the local pipeline: one object each, beside the archive. */
export function storeDeadLetters(
  store: ObjectStore,
  prefix: string,
  topic: string,
  partition: number,
): DeadLetterHandler {
  return async (record: SourceRecord, error) => {
    const key = `${prefix}-dlq/${topic}/${partition}/${String(record.offset).padStart(20, '0')}.bin`;
    await store.put(key, record.value);
    await store.put(`${key}.reason`, Buffer.from(`${error.code}: ${error.message}\n`, 'utf8'));
  };
}

export class SpoolArchiver {
  readonly stats: ArchiveStats = {
    records: 0,
    events: 0,
    objects: 0,
    duplicatesDropped: 0,
    deadLetters: 0,
  };
  private readonly reader: SpoolReader;
  private readonly archiver: PartitionArchiver;
  private readonly options: SpoolArchiverOptions;
  private readonly logger: Logger;
  private position: number | undefined;

  constructor(options: SpoolArchiverOptions) {
    this.options = options;
    this.logger = options.logger ?? silentLogger();
    this.reader = new SpoolReader(options.spoolDir);
    const prefix = options.prefix ?? DEFAULT_PREFIX;
    const deadLetters = storeDeadLetters(options.store, prefix, LOCAL_TOPIC, LOCAL_PARTITION);
    this.archiver = new PartitionArchiver({
      store: options.store,
      prefix,
      topic: LOCAL_TOPIC,
      partition: LOCAL_PARTITION,
      digester:
        options.signingKey === undefined
          ? undefined
          : new PartitionDigester({
              store: options.store,
              prefix,
              topic: LOCAL_TOPIC,
              partition: LOCAL_PARTITION,
              signingKey: options.signingKey,
              intervalMs: options.digestIntervalMs,
            }),
      schemas: options.schemas ?? auditEventSchemas(),
      policy: batchPolicy(options.batch),
      codec: options.codec ?? 'deflate',
      deadLetter: async (record, error) => {
        this.logger.warn(
          { offset: record.offset, code: error.code, reason: error.message },
          'record sent to dead letters',
        );
        await deadLetters(record, error);
      },
    });
  }

  /** Archives what the spool holds now, writes the last partial batch, and returns. */
  async drain(): Promise<ArchiveStats> {
    while ((await this.step()) > 0);
    await this.written(await this.archiver.flush());
    await this.archiver.closeDigests();
    await this.releaseSpool();
    return this.stats;
  }

  /** Archives until `signal` aborts, then writes the open batch and returns. */
  async run(signal: AbortSignal): Promise<ArchiveStats> {
    while (!signal.aborted) {
      const read = await this.step();
      if (read === 0) {
        await this.written(await this.archiver.writeIfDue());
        await sleep(this.options.pollMs ?? 200, undefined, { signal }).catch(() => undefined);
      }
    }
    return this.drainOpenBatch();
  }

  private async drainOpenBatch(): Promise<ArchiveStats> {
    await this.written(await this.archiver.flush());
    await this.archiver.closeDigests();
    await this.releaseSpool();
    return this.stats;
  }

  /** One read from the spool into the batch; returns how many records it read. */
  private async step(): Promise<number> {
    this.position ??= await this.archiver.resume();
    const records = await this.reader.read(this.position, this.options.readRecords ?? 5000);
    for (const record of records) {
      const written = await this.archiver.add({
        offset: record.offset,
        timestamp: record.appendTime,
        value: record.value,
      });
      this.stats.records++;
      this.position = record.offset + 1;
      if (written !== undefined) await this.written(written);
    }
    return records.length;
  }

  private async written(object: WrittenObject | undefined): Promise<void> {
    if (object === undefined) return;
    this.stats.objects++;
    this.stats.events += object.count;
    this.stats.duplicatesDropped += object.duplicates;
    this.stats.deadLetters += object.deadLetters;
    this.logger.debug(
      { key: object.key, count: object.count, reason: object.reason },
      'archive object written',
    );
    await this.releaseSpool();
  }

  private async releaseSpool(): Promise<void> {
    await this.reader.release(this.archiver.archivedBelow);
  }
}
