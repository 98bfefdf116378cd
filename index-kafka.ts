/** `audit-trail/kafka`: publishing events to Kafka and the topic settings the pipeline uses. */
export { createKafka, kafkaBrokers, withAdmin } from './kafka/client.js';
export { kafkaError, type KafkaErrorContext } from './kafka/errors.js';
export {
  kafkaSettingsFromEnv,
  describeKafka,
  SASL_MECHANISMS,
  type KafkaSettings,
  type KafkaTlsSettings,
  type SaslMechanism,
} from './kafka/settings.js';
export {
  ensureTopics,
  desiredTopics,
  topicSettingsFromEnv,
  TOPIC_DEFAULTS,
  type TopicSettings,
  type TopicSpec,
  type EnsureReport,
} from './kafka/topics.js';
export {
  KafkaTransport,
  HEADER_EVENT_TYPE,
  HEADER_SCHEMA_FINGERPRINT,
  type KafkaTransportOptions,
} from './producer/kafka-transport.js';
export { kafkaKeyFor } from './producer/kafka-key.js';
