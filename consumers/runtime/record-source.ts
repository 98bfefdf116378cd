/**
 * Where consumers read records from: the partitions of a Kafka topic through a
 * consumer group (GroupConsumer), or the local spool as one partition
 * (SpoolSource). A source decodes and validates each record once, at its
 * boundary (decode-record.ts), and delivers batches in offset order to one
 * RecordConsumer; the consumer makes its side effect durable and says how far
 * it got. The consumer, not the source, decides where a partition starts
 * (`startAt`) and what is done (`BatchProgress.done`, committed by the source).
 *
 * Backpressure: a source delivers the next batch of a partition only once the
 * consumer's promise for the previous one has resolved.
 */
import type { AuditError } from '../../common/errors.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';

export type RecordHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/** What the decode step made of a record's bytes. */
export type DecodedRecord =
  | {
      /** The event, validated. */
      event: AuditEventRecord;
      /** Its Avro binary body in the reader schema (what an archive object holds). */
      body: Buffer;
    }
  | {
      /** Why the record cannot be used: bad bytes, an unknown schema, or an invalid event. */
      error: AuditError;
    };

/** One record as a source delivers it. */
export interface SourceRecord {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp (append or create time), ms since the epoch. */
  timestamp: number;
  /** The key as it was on the log (Kafka: the package name); null in the spool. */
  key: Buffer | null;
  /** The bytes as they were on the log; null when the record had no value. */
  value: Buffer | null;
  headers: RecordHeaders;
  decoded: DecodedRecord;
}

/** A record whose bytes did not decode into a valid event. */
export type DeadLetter = SourceRecord & { decoded: { error: AuditError } };

export function isDeadLetter(record: SourceRecord): record is DeadLetter {
  return 'error' in record.decoded;
}

export interface BatchContext {
  partition: number;
  /** Last offset of the batch as fetched, records below `startAt` included. */
  lastOffset: number;
  /** Keeps the source's membership during long work; call between chunks. */
  heartbeat(): Promise<void>;
  /** False once the source is stopping or the partition was reassigned. */
  isActive(): boolean;
}

/**
 * How far a consumer got with a batch: `done` is the highest offset whose side
 * effect is durable (the source commits it), `taken` the highest offset it
 * holds, done or in memory (delivery goes on after it). Undefined `done`:
 * nothing new to commit.
 */
export interface BatchProgress {
  done: number | undefined;
  taken: number;
}

/** What the consumer did with a batch; `seek`: deliver the partition again from this offset. */
export type BatchResult = BatchProgress | { seek: number };

export interface RecordConsumer {
  /**
   * The partitions now assigned to this reader, all of them: any partition
   * held before and not listed is revoked. Called before their first batch.
   */
  assigned(partitions: readonly number[]): Promise<void>;
  /**
   * The first offset of `partition` the consumer has not handled: records
   * below it are not delivered (a redelivery after a restart or a rebalance).
   * Asked before every batch. Undefined, or absent: from where the source
   * stands (its committed position on a new assignment).
   */
  startAt?(partition: number): Promise<number | undefined>;
  /**
   * Handles a batch, in offset order. Undefined when it handled nothing: the
   * source delivers the same records again.
   */
  batch(records: readonly SourceRecord[], context: BatchContext): Promise<BatchResult | undefined>;
  /** The source cannot go on (a fault no retry heals); it delivers nothing more. */
  onFailure?(error: Error): void;
}

export interface SourceStats {
  /** Batches delivered. */
  batches: number;
  /** Records delivered, dead letters included. */
  records: number;
}

export interface RecordSource {
  /** The topic it reads ('audit.events' for the spool). */
  readonly topic: string;
  readonly stats: SourceStats;
  /** Starts delivering to `consumer`; resolves once running. Once only. */
  start(consumer: RecordConsumer): Promise<void>;
  /**
   * Commits `nextOffset` (the next offset to read) of a partition: a source
   * opened again without a `startAt` goes on there, and records below may be
   * dropped (the spool releases its segments).
   */
  commit(partition: number, nextOffset: number): Promise<void>;
  /** Delivers no more batches; the one being handled finishes. */
  pause(): void;
  /**
   * Whether this reader may still hold its partitions: false for a group
   * member the coordinator has not confirmed within its session. Always true
   * for a source without a group.
   */
  holdsAssignment(): boolean;
  /**
   * For each partition that holds records this reader has not committed, the
   * offset after its last record now: what a run that stops when it has
   * caught up must reach.
   */
  backlog(): Promise<Map<number, number>>;
  /**
   * For a group, the offset its members last committed for each partition
   * (the next to read): how far the partitions this member does not hold are
   * done. A source without a group has no other reader and need not tell.
   */
  committedOffsets?(): Promise<Map<number, number>>;
  /** Stops after the running batch and releases everything; idempotent. */
  stop(): Promise<void>;
}

/** Where records go that do not decode; durable when `send` resolves. */
export interface DeadLetterSink {
  /** Where they go, for logs: a topic, or a key prefix. */
  readonly target: string;
  send(records: readonly DeadLetter[]): Promise<void>;
  close(): Promise<void>;
}
