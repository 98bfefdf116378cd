/**
 * The archiver consumer group (`audit-archiver`): the archiver stage over a
 * GroupConsumer on the events topic, with the dead-letter topic beside it.
 */
import type { Kafka } from 'kafkajs';
import { positiveIntegerOption } from '../../common/options.js';
import { GroupConsumer } from '../runtime/group-consumer.js';
import { KafkaDeadLetters } from '../runtime/kafka-dead-letters.js';
import { Archiver, type ArchiverOptions } from './archiver.js';

export interface KafkaArchiverOptions extends Omit<ArchiverOptions, 'source' | 'deadLetters'> {
  kafka: Kafka;
  /** @defaultValue 'audit.events' */
  topic?: string;
  /** @defaultValue 'audit-archiver' */
  groupId?: string;
  /** @defaultValue `${topic}.dlq` */
  dlqTopic?: string;
  /** Consumer session timeout: how soon a crashed member's partitions move. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /**
   * Partitions archived at the same time (each fetches, decodes and writes on
   * its own); fewer when fewer are assigned.
   * @defaultValue 8
   */
  partitionsConcurrently?: number;
  /**
   * Upper bound of the (compressed) bytes one fetch takes from a partition;
   * a record batch larger than that still comes whole. @defaultValue 128 KiB
   */
  fetchMaxBytesPerPartition?: number;
  /**
   * Upper bound of the (compressed) bytes of one fetch, all partitions
   * together. Decoded by the Kafka client, a fetch takes about 20 times its
   * bytes in memory (docs/archive.md). @defaultValue 1 MiB
   */
  fetchMaxBytes?: number;
}

export const KAFKA_ARCHIVER_DEFAULTS = {
  groupId: 'audit-archiver',
  partitionsConcurrently: 8,
  fetchMaxBytesPerPartition: 128 * 1024,
  fetchMaxBytes: 1024 * 1024,
} as const satisfies Partial<KafkaArchiverOptions>;

export function kafkaArchiver(options: KafkaArchiverOptions): Archiver {
  const {
    kafka,
    topic,
    groupId,
    dlqTopic,
    sessionTimeoutMs,
    partitionsConcurrently,
    fetchMaxBytesPerPartition,
    fetchMaxBytes,
    ...archiver
  } = options;
  const d = KAFKA_ARCHIVER_DEFAULTS;
  const source = new GroupConsumer({
    kafka,
    groupId: groupId ?? d.groupId,
    topic,
    sessionTimeoutMs,
    partitionsConsumedConcurrently: positiveIntegerOption(
      'partitionsConcurrently',
      partitionsConcurrently,
      d.partitionsConcurrently,
    ),
    maxBytesPerPartition: positiveIntegerOption(
      'fetchMaxBytesPerPartition',
      fetchMaxBytesPerPartition,
      d.fetchMaxBytesPerPartition,
    ),
    maxBytes: positiveIntegerOption('fetchMaxBytes', fetchMaxBytes, d.fetchMaxBytes),
    logger: options.logger,
    schemas: options.schemas,
  });
  const deadLetters = new KafkaDeadLetters(kafka, dlqTopic ?? `${source.topic}.dlq`);
  return new Archiver({ ...archiver, source, deadLetters });
}
