/**
 * The exporter group's transactional side: a request's result and its offset
 * go to Kafka in one transaction, by a producer whose transactional id belongs
 * to the request's partition (`<transactionalIdPrefix>-<partition>`, the same
 * on every member).
 *
 * kafkajs commits offsets in a transaction without the group's generation (no
 * KIP-447), so a member that lost a partition could still commit an offset
 * for it; with one transactional id per partition, the member that takes a
 * partition over initialises that id first, which fences the earlier producer
 * and ends its open transaction, and then reads the committed offset again:
 * requests below it were answered by a transaction that committed before the
 * fence and are skipped.
 */
import type { Kafka, Producer } from 'kafkajs';
import type { Logger } from 'pino';
import type { AuditError } from '../../common/errors.js';
import { kafkaBrokers } from '../../kafka/client.js';
import { kafkaError } from '../../kafka/errors.js';
import type { ExportResult } from './export-request.js';

export interface ResultPublisherOptions {
  kafka: Kafka;
  requestsTopic: string;
  resultsTopic: string;
  groupId: string;
  transactionalIdPrefix: string;
  logger: Logger;
}

interface Ready {
  producer: Producer;
  /** The committed offset read right after the fence; undefined when none was committed. */
  floor: bigint | undefined;
}

export class ResultPublisher {
  private readonly partitions = new Map<number, Promise<Ready>>();

  constructor(private readonly options: ResultPublisherOptions) {}

  /**
   * The producer of `partition` is ready (made on first use, fencing the
   * earlier one); resolves with the offset below which requests were answered.
   */
  async floor(partition: number): Promise<bigint | undefined> {
    return (await this.readyFor(partition)).floor;
  }

  /** The result (if any) and the offset after `offset`, in one transaction. */
  async publish(
    partition: number,
    offset: bigint,
    result: ExportResult | undefined,
  ): Promise<void> {
    const { producer } = await this.readyFor(partition);
    const { requestsTopic, resultsTopic, groupId } = this.options;
    try {
      const transaction = await producer.transaction();
      try {
        if (result !== undefined)
          await transaction.send({
            topic: resultsTopic,
            messages: [{ key: result.id, value: JSON.stringify(result) }],
          });
        await transaction.sendOffsets({
          consumerGroupId: groupId,
          topics: [
            { topic: requestsTopic, partitions: [{ partition, offset: String(offset + 1n) }] },
          ],
        });
        await transaction.commit();
      } catch (error) {
        await transaction.abort().catch(() => undefined); // a fenced producer cannot abort; its epoch is over
        throw error;
      }
    } catch (error) {
      // a fenced or broken producer is made again (and fences in turn) at the next attempt
      this.partitions.delete(partition);
      this.disconnect(producer);
      throw this.coded(error, 'publish an export result to', resultsTopic);
    }
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
      ready = this.fence(partition);
      this.partitions.set(partition, ready);
      void ready.catch(() => this.partitions.delete(partition));
    }
    return ready;
  }

  private async fence(partition: number): Promise<Ready> {
    const { kafka, requestsTopic, groupId, transactionalIdPrefix } = this.options;
    const producer = kafka.producer({
      transactionalId: `${transactionalIdPrefix}-${partition}`,
      idempotent: true,
      maxInFlightRequests: 1,
    });
    try {
      await producer.connect();
      // initialising the transactional id fences the earlier producer and ends its open transaction
      const empty = await producer.transaction();
      await empty.abort();
      const floor = await this.committedOffset(partition);
      this.options.logger.debug({ partition, floor: String(floor) }, 'result producer ready');
      return { producer, floor };
    } catch (error) {
      this.disconnect(producer);
      throw this.coded(
        error,
        `fence the earlier producer of partition ${partition} of`,
        requestsTopic,
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
        topics: [this.options.requestsTopic],
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
