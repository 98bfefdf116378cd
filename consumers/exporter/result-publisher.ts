/**
 * The exporter group's transactional side: a request's result and its offset
 * go to Kafka in one transaction, by the producer of the request's partition
 * (consumers/runtime/transactional-partitions.ts: one transactional id per
 * requests partition, the fence and the offset read after it).
 */
import type { Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { TransactionalPartitions } from '../runtime/transactional-partitions.js';
import type { ExportResult } from './export-request.js';

export interface ResultPublisherOptions {
  kafka: Kafka;
  requestsTopic: string;
  resultsTopic: string;
  groupId: string;
  transactionalIdPrefix: string;
  logger: Logger;
}

export class ResultPublisher {
  private readonly transactions: TransactionalPartitions;

  constructor(private readonly options: ResultPublisherOptions) {
    this.transactions = new TransactionalPartitions({
      kafka: options.kafka,
      inputTopic: options.requestsTopic,
      groupId: options.groupId,
      transactionalIdPrefix: options.transactionalIdPrefix,
      operation: 'publish an export result to',
      outputTopic: options.resultsTopic,
      logger: options.logger,
    });
  }

  /**
   * The producer of `partition` is ready (made on first use, fencing the
   * earlier one); resolves with the offset below which requests were answered.
   */
  floor(partition: number): Promise<bigint | undefined> {
    return this.transactions.next(partition);
  }

  /** The result (if any) and the offset after `offset`, in one transaction. */
  publish(partition: number, offset: bigint, result: ExportResult | undefined): Promise<void> {
    const messages =
      result === undefined ? [] : [{ key: result.id, value: JSON.stringify(result) }];
    return this.transactions.commit(
      partition,
      [{ topic: this.options.resultsTopic, messages }],
      offset + 1n,
    );
  }

  close(): Promise<void> {
    return this.transactions.close();
  }
}
