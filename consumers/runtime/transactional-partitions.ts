/**
 * Read-process-write exactly once, per partition of an input topic: what a
 * consumer group derives from the records of a partition and the offset after
 * them go to Kafka in one transaction, by a producer whose transactional id
 * belongs to that partition (`<transactionalIdPrefix>-<partition>`, the same on
 * every member of the group and across restarts).
 *
 * kafkajs commits offsets in a transaction without the group's generation (no
 * KIP-447), so a member that lost a partition could still commit an offset
 * for it; with one transactional id per partition, the member that takes a
 * partition over initialises that id first, which fences the earlier producer
 * and ends its open transaction, and then reads the committed offset again:
 * records below it were published by a transaction that committed before the
 * fence and must be skipped.
 *
 * Used by the exporter group (results of export requests) and the SIEM feed
 * (events in a SIEM's format).
 */
import kafkajs, { type Kafka, type Producer, type TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { AuditError } from '../../common/errors.js';
import { RETRY_POLICIES, retry } from '../../common/retry.js';
import { AcknowledgedPartitions } from '../../kafka/acknowledged-partitions.js';
import { kafkaBrokers } from '../../kafka/client.js';
import { kafkaError } from '../../kafka/errors.js';

export interface TransactionalPartitionsOptions {
  kafka: Kafka;
  /** The topic read; its offsets are committed in the transactions. */
  inputTopic: string;
  /** The consumer group whose offsets the transactions commit. */
  groupId: string;
  transactionalIdPrefix: string;
  /** What a transaction does, for errors: a verb phrase that `outputTopic` ends (`publish a result to`). */
  operation: string;
  outputTopic: string;
  logger: Logger;
}

interface Ready {
  producer: Producer;
  /** The partitions each send of `producer` addresses, checked against its answers. */
  acknowledged: AcknowledgedPartitions;
  /**
   * The offset from which records of the partition are still to be published:
   * the committed offset read right after the fence, then the one each
   * transaction of this producer committed; undefined when none was committed.
   */
  next: bigint | undefined;
}

/** The coordinator is still completing the previous transaction of this transactional id. */
function isConcurrentTransactions(error: unknown): boolean {
  return (error as { type?: unknown } | undefined)?.type === 'CONCURRENT_TRANSACTIONS';
}

export class TransactionalPartitions {
  /** Transactions begun that did not commit (aborted, or left to the next owner when fenced). */
  aborted = 0;
  private readonly partitions = new Map<number, Promise<Ready>>();

  constructor(private readonly options: TransactionalPartitionsOptions) {}

  /**
   * The producer of `partition` is ready (made on first use, fencing the
   * earlier one); resolves with the offset below which every record of the
   * partition was published, undefined when the group has committed none.
   */
  async next(partition: number): Promise<bigint | undefined> {
    return (await this.readyFor(partition)).next;
  }

  /**
   * `topicMessages` (may be empty) and `next`, the offset after the last record
   * they were made from, committed for the group in one transaction. Any
   * failure drops the producer: the next call fences again and `next()` reads
   * the committed offset again, so that the caller starts over from there.
   */
  async commit(partition: number, topicMessages: TopicMessages[], next: bigint): Promise<void> {
    const ready = await this.readyFor(partition);
    const { producer, acknowledged } = ready;
    const { inputTopic, groupId } = this.options;
    try {
      const transaction = await producer.transaction();
      try {
        const sending = topicMessages.filter((t) => t.messages.length > 0);
        if (sending.length > 0)
          await acknowledged.checked(() =>
            transaction.sendBatch({ topicMessages: sending, acks: -1 }),
          );
        // kafkajs retries a busy coordinator for the records it sends, not for the offsets: a
        // transaction with offsets only (the monitor's evaluations that raise no alert) meets it first
        await retry(
          () =>
            transaction.sendOffsets({
              consumerGroupId: groupId,
              topics: [{ topic: inputTopic, partitions: [{ partition, offset: String(next) }] }],
            }),
          { policy: RETRY_POLICIES.transactionBusy, isRetriable: isConcurrentTransactions },
        );
        await transaction.commit();
        ready.next = next;
      } catch (error) {
        this.aborted++;
        await transaction.abort().catch(() => undefined); // a fenced producer cannot abort; its epoch is over
        throw error;
      }
    } catch (error) {
      // a fenced or broken producer is made again (and fences in turn) at the next attempt
      this.drop(partition);
      this.disconnect(producer);
      throw this.coded(error, this.options.operation, this.options.outputTopic);
    }
  }

  /** Forgets the producer of `partition` (disconnected), e.g. when the partition was revoked. */
  drop(partition: number): void {
    const ready = this.partitions.get(partition);
    if (ready === undefined) return;
    this.partitions.delete(partition);
    void ready.then(({ producer }) => this.disconnect(producer)).catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.partitions.values()];
    this.partitions.clear();
    for (const ready of all)
      await ready
        .then(({ producer }) => producer.disconnect())
        .catch((error: unknown) => this.logQuietly(error));
  }

  private readyFor(partition: number): Promise<Ready> {
    let ready = this.partitions.get(partition);
    if (ready === undefined) {
      const fencing = this.fence(partition);
      ready = fencing;
      this.partitions.set(partition, fencing);
      void fencing.catch(() => {
        if (this.partitions.get(partition) === fencing) this.partitions.delete(partition);
      });
    }
    return ready;
  }

  private async fence(partition: number): Promise<Ready> {
    const { kafka, inputTopic, groupId, transactionalIdPrefix } = this.options;
    const acknowledged = new AcknowledgedPartitions();
    const producer = kafka.producer({
      transactionalId: `${transactionalIdPrefix}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client does: one key, one partition of each output topic
      createPartitioner: acknowledged.partitioner(kafkajs.Partitioners.DefaultPartitioner),
    });
    try {
      await producer.connect();
      // initialising the transactional id fences the earlier producer and ends its open transaction
      const empty = await producer.transaction();
      await empty.abort();
      const next = await this.committedOffset(partition);
      this.options.logger.debug({ partition, next: String(next) }, 'transactional producer ready');
      return { producer, acknowledged, next };
    } catch (error) {
      this.disconnect(producer);
      throw this.coded(
        error,
        `fence the earlier producer of partition ${partition} of`,
        inputTopic,
        groupId,
      );
    }
  }

  private async committedOffset(partition: number): Promise<bigint | undefined> {
    const admin = this.options.kafka.admin();
    await admin.connect();
    try {
      const [offsets] = await admin.fetchOffsets({
        groupId: this.options.groupId,
        topics: [this.options.inputTopic],
      });
      const committed = offsets?.partitions.find((p) => p.partition === partition)?.offset;
      return committed !== undefined && /^\d+$/.test(committed) ? BigInt(committed) : undefined;
    } finally {
      await admin.disconnect();
    }
  }

  private disconnect(producer: Producer): void {
    void producer.disconnect().catch((error: unknown) => this.logQuietly(error));
  }

  private logQuietly(error: unknown): void {
    this.options.logger.debug({ err: (error as Error).message }, 'producer disconnect failed');
  }

  private coded(
    error: unknown,
    operation: string,
    topic: string,
    group = this.options.groupId,
  ): AuditError {
    return kafkaError(error, {
      operation,
      topic,
      group,
      brokers: kafkaBrokers(this.options.kafka),
    });
  }
}
