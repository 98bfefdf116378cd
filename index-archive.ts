/**
 * `audit-trail/archive`: the archiver stage over a record source (the local
 * spool or the Kafka consumer group), the archive's keys and digests, and
 * `verifyArchive`, which proves that nothing archived was changed or removed.
 */
export {
  Archiver,
  ARCHIVER_DEFAULTS,
  type ArchiverOptions,
  type ArchiveStats,
} from './consumers/archiver/archiver.js';
export { ArchiverMetrics } from './consumers/archiver/archiver-metrics.js';
export { spoolArchiver, type SpoolArchiverOptions } from './consumers/archiver/spool-archiver.js';
export {
  kafkaArchiver,
  KAFKA_ARCHIVER_DEFAULTS,
  type KafkaArchiverOptions,
} from './consumers/archiver/kafka-archiver.js';
export { BATCH_DEFAULTS, type BatchPolicy } from './consumers/archiver/batch-policy.js';
export {
  type DeadLetterSink,
  type RecordConsumer,
  type RecordSource,
  type SourceRecord,
} from './consumers/runtime/record-source.js';
export { SpoolSource, SPOOL_SOURCE_DEFAULTS } from './consumers/runtime/spool-source.js';
export { GroupConsumer, GROUP_CONSUMER_DEFAULTS } from './consumers/runtime/group-consumer.js';
export { archiveKeyFor, parseArchiveKey } from './consumers/archiver/archive-key.js';
export { loadSigningKey, loadVerifyKey } from './consumers/archiver/digest.js';
export {
  verifyArchive,
  verifyGraceFor,
  anchorFromReport,
  DEFAULT_GRACE_MS,
  type Anchor,
  type Problem,
  type ProblemKind,
  type VerifyOptions,
  type VerifyReport,
} from './consumers/archiver/verify.js';
