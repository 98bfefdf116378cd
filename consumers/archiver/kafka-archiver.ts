/**
 * The archiver consumer group (`audit-archiver`): the archiver stage over a
 * GroupConsumer on the events topic, with the dead-letter topic beside it.
 */
import type { Kafka } from 'kafkajs';
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
}

export const KAFKA_ARCHIVER_DEFAULTS = {
  groupId: 'audit-archiver',
} as const satisfies Partial<KafkaArchiverOptions>;

export function kafkaArchiver(options: KafkaArchiverOptions): Archiver {
  const { kafka, topic, groupId, dlqTopic, sessionTimeoutMs, ...archiver } = options;
  const source = new GroupConsumer({
    kafka,
    groupId: groupId ?? KAFKA_ARCHIVER_DEFAULTS.groupId,
    topic,
    sessionTimeoutMs,
    logger: options.logger,
    schemas: options.schemas,
  });
  const deadLetters = new KafkaDeadLetters(kafka, dlqTopic ?? `${source.topic}.dlq`);
  return new Archiver({ ...archiver, source, deadLetters });
}
