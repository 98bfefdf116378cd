/**
 * The dead-letter topic (`<topic>.dlq`): each record that does not decode goes
 * there with its key, value and headers, plus the reason and where it came from.
 */
import kafkajs, { type Kafka, type Message, type Producer } from 'kafkajs';
import { AcknowledgedPartitions } from '../../kafka/acknowledged-partitions.js';
import type { DeadLetter, DeadLetterSink } from './record-source.js';

export const DLQ_HEADERS = {
  reason: 'dlq_reason',
  topic: 'dlq_source_topic',
  partition: 'dlq_source_partition',
  offset: 'dlq_source_offset',
} as const;

/** The record for the dead-letter topic: the bytes as they were, and why and whence in the headers. */
export function deadLetterMessage(record: DeadLetter): Message {
  return {
    key: record.key,
    value: record.value,
    timestamp: String(record.timestamp),
    headers: {
      ...record.headers,
      [DLQ_HEADERS.reason]: `${record.decoded.error.code}: ${record.decoded.error.message}`,
      [DLQ_HEADERS.topic]: record.topic,
      [DLQ_HEADERS.partition]: String(record.partition),
      [DLQ_HEADERS.offset]: String(record.offset),
    },
  };
}

export class KafkaDeadLetters implements DeadLetterSink {
  readonly target: string;
  private readonly producer: Producer;
  private readonly acknowledged = new AcknowledgedPartitions();
  private connected: Promise<void> | undefined;

  constructor(kafka: Kafka, dlqTopic: string) {
    this.target = dlqTopic;
    this.producer = kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client does: one package, one partition
      createPartitioner: this.acknowledged.partitioner(kafkajs.Partitioners.DefaultPartitioner),
    });
  }

  /** Resolves once every record is acknowledged by all in-sync replicas. */
  async send(records: readonly DeadLetter[]): Promise<void> {
    if (records.length === 0) return;
    this.connected ??= this.producer.connect();
    await this.connected;
    await this.acknowledged.checked(() =>
      this.producer.send({
        topic: this.target,
        acks: -1,
        messages: records.map(deadLetterMessage),
      }),
    );
  }

  async close(): Promise<void> {
    if (this.connected === undefined) return;
    this.connected = undefined;
    await this.producer.disconnect();
  }
}
