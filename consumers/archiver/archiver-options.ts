/**
 * The archiver's options, checked once when it is built (a ConfigError names
 * the bad one), and the assembly of each partition's archiver from them.
 */
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import { nonEmptyOption, oneOfOption, positiveIntegerOption } from '../../common/options.js';
import { CONTAINER_CODECS, type ContainerCodec } from '../../schemas/container.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { DeadLetterSink, RecordSource } from '../runtime/record-source.js';
import { type BatchPolicy, batchPolicy } from './batch-policy.js';
import { PartitionDigester } from './digester.js';
import { PartitionArchiver, type WrittenObject } from './partition-archiver.js';
import type { ArchiverMetrics } from './archiver-metrics.js';

export interface ArchiverOptions {
  source: RecordSource;
  store: ObjectStore;
  /** Where records that do not decode go (a dead-letter topic, or objects beside the archive). */
  deadLetters: DeadLetterSink;
  /** Key prefix of archive objects. @defaultValue 'events' */
  prefix?: string;
  batch?: Partial<BatchPolicy>;
  /** @defaultValue 'deflate' */
  codec?: ContainerCodec;
  /** Event ids remembered per partition to drop duplicates (see PartitionArchiver). @defaultValue 100000 */
  dedupWindow?: number;
  /** Ed25519 key that signs the digests; no digests without it. */
  signingKey?: KeyObject | undefined;
  /** Length of a digest interval. @defaultValue 3600000 (one hour) */
  digestIntervalMs?: number | undefined;
  /**
   * Objects of one partition that may be compressing and writing while the
   * partition takes its next records; one more full batch waits for the oldest
   * to be written (backpressure: the partition fetches nothing meanwhile).
   * Offsets are committed in order, each once its object is written.
   * @defaultValue 2
   */
  objectsInFlight?: number;
  logger?: Logger;
  schemas?: SchemaSet;
  /** Where the archiver reports what it does. @defaultValue none */
  metrics?: ArchiverMetrics | undefined;
}

export const ARCHIVER_DEFAULTS = {
  prefix: 'events',
  codec: 'deflate',
  dedupWindow: 100_000,
  digestIntervalMs: 3_600_000,
  objectsInFlight: 2,
} as const satisfies Partial<ArchiverOptions>;

/** What this archiver did: counted per object written, so rebalances and restarts cannot skew it. */
export interface ArchiveStats {
  /** Records taken from the source (events, duplicates and dead letters). */
  records: number;
  /** Events in the objects written. */
  events: number;
  objects: number;
  /** Duplicates dropped and dead letters, in the ranges of the objects written. */
  duplicatesDropped: number;
  deadLetters: number;
}

export interface PartitionArchivers {
  prefix: string;
  policy: BatchPolicy;
  /** A new archiver of `partition`, with its digester when there is a signing key. */
  make: (partition: number) => PartitionArchiver;
}

/** What the archiver does around each partition's writes. */
export interface PartitionHooks {
  /** Wraps each write to the store (the store retries). */
  retryWrite: <T>(write: () => Promise<T>) => Promise<T>;
  /** Each object once written, in offset order within its partition. */
  onWritten: (partition: number, archiver: PartitionArchiver, object: WrittenObject) => void;
}

/** Checks the options and returns the maker of partition archivers they describe. */
export function partitionArchivers(
  options: ArchiverOptions,
  hooks: PartitionHooks,
): PartitionArchivers {
  const d = ARCHIVER_DEFAULTS;
  const prefix = nonEmptyOption('prefix', options.prefix, d.prefix);
  const policy = batchPolicy(options.batch);
  const codec = oneOfOption('codec', options.codec, CONTAINER_CODECS, d.codec);
  const dedupWindow = positiveIntegerOption('dedupWindow', options.dedupWindow, d.dedupWindow);
  const intervalMs = positiveIntegerOption(
    'digestIntervalMs',
    options.digestIntervalMs,
    d.digestIntervalMs,
  );
  const objectsInFlight = positiveIntegerOption(
    'objectsInFlight',
    options.objectsInFlight,
    d.objectsInFlight,
  );
  const schemas = options.schemas ?? auditEventSchemas();
  const { store, signingKey } = options;
  const topic = options.source.topic;
  return {
    prefix,
    policy,
    make: (partition) => {
      const archiver: PartitionArchiver = new PartitionArchiver({
        store,
        prefix,
        topic,
        partition,
        schemas,
        policy,
        codec,
        dedupWindow,
        digester:
          signingKey === undefined
            ? undefined
            : new PartitionDigester({ store, prefix, topic, partition, signingKey, intervalMs }),
        retryWrite: hooks.retryWrite,
        objectsInFlight,
        onWritten: (object) => hooks.onWritten(partition, archiver, object),
      });
      return archiver;
    },
  };
}
