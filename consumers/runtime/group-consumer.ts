/**
 * The consumer-group runtime every consumer shares (archiver, monitor, tests):
 *
 * - subscribes with its own group id and hands each partition batch to a handler;
 * - offsets are resolved only up to what the handler reports as durably done
 *   (kafkajs `eachBatch` without auto-resolve), then committed;
 * - records that do not decode (unknown schema fingerprint, bad bytes, or an
 *   event that breaks the validation rules) go to the dead-letter topic with the
 *   reason in a header, and consumption goes on;
 * - `stop()` (also on SIGTERM/SIGINT with `stopOnSignals`) lets the running
 *   batch finish, commits what is done and leaves the group.
 */
import kafkajs, { type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { AuditError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { validateRecord } from '../../producer/validate.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { decodeSingleObject } from '../../schemas/single-object.js';

export const DLQ_HEADERS = {
  reason: 'dlq_reason',
  topic: 'dlq_source_topic',
  partition: 'dlq_source_partition',
  offset: 'dlq_source_offset',
} as const;

export interface ConsumedEvent {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp, ms since the epoch. */
  timestamp: number;
  key: string | null;
  /** The Avro single-object encoding as it was on the topic. */
  value: Buffer;
  event: AuditEventRecord;
}

export interface BatchContext {
  topic: string;
  partition: number;
  /** Last offset of the batch, dead letters included. */
  lastOffset: number;
  /** Keeps group membership during long work; call between chunks. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was reassigned. */
  isActive(): boolean;
}

/**
 * Handles the decodable events of one partition batch and makes its side effect
 * durable. Returns the highest offset that may be committed (everything at or
 * below it is done), or undefined when nothing new is done; the runtime then
 * commits nothing for this batch.
 */
export type BatchHandler = (
  events: ConsumedEvent[],
  context: BatchContext,
) => Promise<number | undefined>;

export interface GroupConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** @defaultValue 'audit.events' */
  topic?: string;
  /** @defaultValue `${topic}.dlq` */
  dlqTopic?: string;
  handler: BatchHandler;
  /** Start from the oldest record when the group has no committed offset. @defaultValue true */
  fromBeginning?: boolean;
  /** Partitions handled at the same time. @defaultValue 1 */
  partitionsConsumedConcurrently?: number;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** Upper bound of fetched bytes per partition, and so of one batch. @defaultValue 1 MiB */
  maxBytesPerPartition?: number;
  /** Called for each partition newly assigned to this member, before its first batch. */
  onAssigned?: (partitions: { topic: string; partition: number }[]) => Promise<void>;
  logger?: Logger;
  schemas?: SchemaSet;
}

export interface ConsumerStats {
  batches: number;
  events: number;
  deadLetters: number;
}

export class GroupConsumer {
  readonly stats: ConsumerStats = { batches: 0, events: 0, deadLetters: 0 };
  readonly topic: string;
  readonly dlqTopic: string;
  private readonly options: GroupConsumerOptions;
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly logger: Logger;
  private readonly schemas: SchemaSet;
  private stopping: Promise<void> | undefined;
  private removeSignalHandlers: (() => void) | undefined;
  /** When the coordinator last confirmed this member (join or heartbeat); 0 while rebalancing. */
  private confirmedAt = 0;

  constructor(options: GroupConsumerOptions) {
    this.options = options;
    this.topic = options.topic ?? 'audit.events';
    this.dlqTopic = options.dlqTopic ?? `${this.topic}.dlq`;
    this.logger = (options.logger ?? silentLogger()).child({ group: options.groupId });
    this.schemas = options.schemas ?? auditEventSchemas();
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.dlqProducer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client does: one package, one partition
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    const { GROUP_JOIN, HEARTBEAT, REBALANCING } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => (this.confirmedAt = Date.now()));
    this.consumer.on(HEARTBEAT, () => (this.confirmedAt = Date.now()));
    this.consumer.on(REBALANCING, () => (this.confirmedAt = 0));
    if (this.options.onAssigned !== undefined) {
      const onAssigned = this.options.onAssigned;
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
        const assigned = Object.entries(event.payload.memberAssignment).flatMap(
          ([topic, partitions]) => partitions.map((partition) => ({ topic, partition })),
        );
        // errors surface in the first batch of the partition, which re-checks its state
        onAssigned(assigned).catch((error: unknown) =>
          this.logger.error({ err: (error as Error).message }, 'onAssigned failed'),
        );
      });
    }
    await this.consumer.subscribe({
      topics: [this.topic],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      autoCommit: true,
      // commitOffsetsIfNecessary() then commits after every handled batch, not only at intervals
      autoCommitThreshold: 1,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        const events: ConsumedEvent[] = [];
        const deadLetters: { message: KafkaMessage; reason: string }[] = [];
        for (const message of batch.messages) {
          const decoded = this.decode(batch.topic, batch.partition, message);
          if ('reason' in decoded) deadLetters.push({ message, reason: decoded.reason });
          else events.push(decoded);
        }
        if (deadLetters.length > 0)
          await this.sendDeadLetters(batch.topic, batch.partition, deadLetters);
        const done = await this.options.handler(events, {
          topic: batch.topic,
          partition: batch.partition,
          lastOffset: Number(batch.lastOffset()),
          heartbeat: () => payload.heartbeat(),
          isActive: () => payload.isRunning() && !payload.isStale(),
        });
        this.stats.batches++;
        this.stats.events += events.length;
        if (done !== undefined) {
          payload.resolveOffset(String(done));
          await payload.commitOffsetsIfNecessary();
        }
        await payload.heartbeat();
      },
    });
  }

  /**
   * Whether this member may still hold its assignment: the coordinator
   * confirmed it (join or heartbeat) within the session timeout and no
   * rebalance is under way. False after a pause (SIGSTOP, GC, frozen VM) longer
   * than the session, until the member has joined again. A hint that avoids
   * stale writes; the claims in the store are what fences them.
   */
  holdsAssignment(): boolean {
    return Date.now() - this.confirmedAt < (this.options.sessionTimeoutMs ?? 30_000);
  }

  /** Fetches no more records; the batch being handled finishes. */
  pause(): void {
    this.consumer.pause([{ topic: this.topic }]);
  }

  /** Commits `nextOffset` (the next offset to read) for a partition this member holds. */
  async commit(partition: number, nextOffset: number): Promise<void> {
    await this.consumer.commitOffsets([
      { topic: this.topic, partition, offset: String(nextOffset) },
    ]);
  }

  /** Stops after the running batch, commits resolved offsets and leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.removeSignalHandlers?.();
      await this.consumer.disconnect();
      await this.dlqProducer.disconnect();
    })();
    return this.stopping;
  }

  /** Stops gracefully on SIGTERM and SIGINT; resolves the returned promise when stopped. */
  stopOnSignals(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        this.logger.info({ signal }, 'stopping');
        this.stop().then(resolve, reject);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      this.removeSignalHandlers = () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      };
    });
  }

  private decode(
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): ConsumedEvent | { reason: string } {
    if (message.value === null) return { reason: 'DECODE_FAILED: empty record value' };
    try {
      const event = validateRecord(
        decodeSingleObject<AuditEventRecord>(this.schemas, message.value),
      );
      return {
        topic,
        partition,
        offset: Number(message.offset),
        timestamp: Number(message.timestamp),
        key: message.key === null ? null : message.key.toString('utf8'),
        value: message.value,
        event,
      };
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      return { reason: `${error.code}: ${error.message}` };
    }
  }

  private async sendDeadLetters(
    topic: string,
    partition: number,
    deadLetters: { message: KafkaMessage; reason: string }[],
  ): Promise<void> {
    await this.dlqProducer.send({
      topic: this.dlqTopic,
      acks: -1,
      messages: deadLetters.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        timestamp: message.timestamp,
        headers: {
          ...message.headers,
          [DLQ_HEADERS.reason]: reason,
          [DLQ_HEADERS.topic]: topic,
          [DLQ_HEADERS.partition]: String(partition),
          [DLQ_HEADERS.offset]: message.offset,
        },
      })),
    });
    this.stats.deadLetters += deadLetters.length;
    for (const { message, reason } of deadLetters) {
      this.logger.warn(
        { topic, partition, offset: message.offset, reason },
        'record sent to the dead-letter topic',
      );
    }
  }
}
