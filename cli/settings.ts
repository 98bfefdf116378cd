/**
 * The one table of settings: every environment variable the command line
 * reads, each declared once next to the code that owns it (the Kafka and topic
 * rows in kafka/, the rest here). It drives reading (cli/config.ts), the
 * allow-list of a config file, the help text and docs/configuration.md.
 */
import { LOG_DEFAULTS, LOG_FORMATS, LOG_LEVELS } from '../common/logger.js';
import {
  filePath,
  matching,
  milliseconds,
  oneOf,
  positiveInteger,
  type Setting,
  setting,
  type SettingParser,
  text,
} from '../common/settings.js';
import { BATCH_DEFAULTS } from '../consumers/archiver/batch-policy.js';
import { ARCHIVER_DEFAULTS as ARCHIVER } from '../consumers/archiver/archiver.js';
import { KAFKA_ARCHIVER_DEFAULTS } from '../consumers/archiver/kafka-archiver.js';
import { GROUP_CONSUMER_DEFAULTS } from '../consumers/runtime/group-consumer.js';
import { S3_STORE_DEFAULTS } from '../consumers/object-store/s3-store-options.js';
import { EXPORT_JOB_DEFAULTS } from '../consumers/exporter/export-job.js';
import { EXPORTER_MEMBER_DEFAULTS } from '../consumers/exporter/exporter-member.js';
import { HTTP_SETTINGS, port } from '../consumers/exporter/http/http-settings.js';
import { MONITOR_MEMBER_DEFAULTS } from '../consumers/monitor/monitor-member.js';
import { SIEM_FEED_DEFAULTS } from '../consumers/siem-feed/siem-feed-member.js';
import { KAFKA_SETTINGS } from '../kafka/settings.js';
import { TOPIC_SETTINGS } from '../kafka/topics.js';

export const CLI_DEFAULTS = {
  transport: 'local',
  spoolDir: './audit-data/spool',
  archiveDir: './audit-data/archive',
  archiveStore: 'dir',
} as const;

/**
 * The archiver's defaults as the command line runs it: the components' own,
 * and the stop timeout, which is the command's (how long it waits for the
 * open batches to be written at SIGTERM).
 */
export const ARCHIVER_DEFAULTS = {
  groupId: KAFKA_ARCHIVER_DEFAULTS.groupId,
  prefix: ARCHIVER.prefix,
  sessionTimeoutMs: GROUP_CONSUMER_DEFAULTS.sessionTimeoutMs,
  stopTimeoutMs: 10_000,
  digestIntervalMs: ARCHIVER.digestIntervalMs,
  objectsInFlight: ARCHIVER.objectsInFlight,
  partitionsConcurrently: KAFKA_ARCHIVER_DEFAULTS.partitionsConcurrently,
  fetchMaxBytes: KAFKA_ARCHIVER_DEFAULTS.fetchMaxBytes,
  fetchMaxBytesPerPartition: KAFKA_ARCHIVER_DEFAULTS.fetchMaxBytesPerPartition,
} as const;

export { verifyGraceFor } from '../consumers/archiver/verify.js';

const keyPrefix: SettingParser<string> = {
  expects: 'a key prefix (letters, digits, . _ - and /)',
  parse: (raw) =>
    raw.split('/').every((part) => /^[A-Za-z0-9._-]+$/.test(part) && part !== '.' && part !== '..')
      ? raw
      : undefined,
};

export const PIPELINE_SETTINGS = {
  config: setting({
    name: 'AUDIT_CONFIG',
    parser: filePath,
    doc: 'file of `NAME=value` lines read under the environment (also `--config FILE`)',
  }),
  transport: setting({
    name: 'AUDIT_TRANSPORT',
    parser: oneOf(['local', 'kafka']),
    default: CLI_DEFAULTS.transport,
    doc: 'where events go: the spool only (`local`), or the spool, then the events topic (`kafka`)',
  }),
  spoolDir: setting({
    name: 'AUDIT_SPOOL_DIR',
    parser: filePath,
    default: CLI_DEFAULTS.spoolDir,
    doc: 'spool folder of this process',
  }),
  source: setting({
    name: 'AUDIT_SOURCE',
    parser: text,
    defaultDoc: 'the host name',
    doc: '`source` of events that name none',
  }),
  logLevel: setting({
    name: 'AUDIT_LOG_LEVEL',
    parser: oneOf(LOG_LEVELS),
    default: LOG_DEFAULTS.level,
    doc: 'level of the logs on stderr',
  }),
  logFormat: setting({
    name: 'AUDIT_LOG_FORMAT',
    parser: oneOf(LOG_FORMATS),
    default: LOG_DEFAULTS.format,
    doc: 'logs on stderr as `json` lines (pino), short `text` lines, or `auto`: text on a terminal, JSON otherwise',
  }),
} as const;

export const ARCHIVE_SETTINGS = {
  archiveStore: setting({
    name: 'AUDIT_ARCHIVE_STORE',
    parser: oneOf(['dir', 's3']),
    default: CLI_DEFAULTS.archiveStore,
    doc: 'where `archive` writes and `export` and `verify` read: the local folder or S3',
  }),
  archiveDir: setting({
    name: 'AUDIT_ARCHIVE_DIR',
    parser: filePath,
    default: CLI_DEFAULTS.archiveDir,
    doc: 'local archive folder',
  }),
  prefix: setting({
    name: 'AUDIT_ARCHIVE_PREFIX',
    parser: keyPrefix,
    default: ARCHIVER_DEFAULTS.prefix,
    doc: 'key prefix of archive objects',
  }),
  batchMaxEvents: setting({
    name: 'AUDIT_BATCH_MAX_EVENTS',
    parser: positiveInteger,
    default: BATCH_DEFAULTS.maxEvents,
    doc: 'an archive object is written at this many events',
  }),
  batchMaxBytes: setting({
    name: 'AUDIT_BATCH_MAX_BYTES',
    parser: positiveInteger,
    default: BATCH_DEFAULTS.maxBytes,
    defaultDoc: '8388608 (8 MiB)',
    doc: 'an archive object is written at this many bytes of events',
  }),
  batchMaxAgeMs: setting({
    name: 'AUDIT_BATCH_MAX_AGE_MS',
    parser: positiveInteger,
    default: BATCH_DEFAULTS.maxAgeMs,
    doc: 'an archive object is written this long after its first event',
  }),
  signingKeyFile: setting({
    name: 'AUDIT_SIGNING_KEY_FILE',
    parser: filePath,
    doc: 'Ed25519 private key (PEM) that signs digests; no digests without it',
  }),
  verifyKeyFile: setting({
    name: 'AUDIT_VERIFY_KEY_FILE',
    parser: filePath,
    defaultDoc: 'required by `verify`',
    doc: 'Ed25519 public key (PEM) for `verify`; with it `export` verifies first',
  }),
  verifyGraceMs: setting({
    name: 'AUDIT_VERIFY_GRACE_MS',
    parser: milliseconds(1000),
    defaultDoc: 'two digest intervals + 10 minutes',
    doc: 'how old the newest digest of a partition may be for `verify` and verified exports',
  }),
  digestIntervalMs: setting({
    name: 'AUDIT_DIGEST_INTERVAL_MS',
    parser: milliseconds(1000),
    default: ARCHIVER_DEFAULTS.digestIntervalMs,
    doc: 'digest interval',
  }),
  encryptionKeyFile: setting({
    name: 'AUDIT_ENCRYPTION_KEY_FILE',
    parser: filePath,
    doc: 'file with a 256-bit key (hex or base64) for client-side AES-256-GCM',
  }),
  archiverGroupId: setting({
    name: 'AUDIT_ARCHIVER_GROUP',
    parser: text,
    default: ARCHIVER_DEFAULTS.groupId,
    doc: 'consumer group of `archive` (kafka transport); members of one group share the partitions',
  }),
  archiverSessionTimeoutMs: setting({
    name: 'AUDIT_ARCHIVER_SESSION_TIMEOUT_MS',
    parser: milliseconds(6000),
    default: ARCHIVER_DEFAULTS.sessionTimeoutMs,
    doc: 'consumer session timeout of the archiver',
  }),
  archiverObjectsInFlight: setting({
    name: 'AUDIT_ARCHIVER_OBJECTS_IN_FLIGHT',
    parser: positiveInteger,
    default: ARCHIVER_DEFAULTS.objectsInFlight,
    doc: 'archive objects of one partition compressing and uploading while it reads on; one more full batch waits (backpressure, see docs/archive.md)',
  }),
  archiverPartitionsConcurrently: setting({
    name: 'AUDIT_ARCHIVER_PARTITIONS_CONCURRENTLY',
    parser: positiveInteger,
    default: ARCHIVER_DEFAULTS.partitionsConcurrently,
    doc: 'partitions the archiver (kafka) fetches and archives at the same time',
  }),
  archiverFetchMaxBytes: setting({
    name: 'AUDIT_ARCHIVER_FETCH_MAX_BYTES',
    parser: positiveInteger,
    default: ARCHIVER_DEFAULTS.fetchMaxBytes,
    defaultDoc: '1048576 (1 MiB)',
    doc: 'upper bound of one fetch of the archiver (kafka), all partitions together, in compressed bytes (decoded, ~20 times that in memory)',
  }),
  archiverFetchMaxBytesPerPartition: setting({
    name: 'AUDIT_ARCHIVER_FETCH_MAX_BYTES_PER_PARTITION',
    parser: positiveInteger,
    default: ARCHIVER_DEFAULTS.fetchMaxBytesPerPartition,
    defaultDoc: '131072 (128 KiB)',
    doc: 'upper bound of what one fetch of the archiver (kafka) takes from a partition (a larger record batch still comes whole)',
  }),
  archiverStopTimeoutMs: setting({
    name: 'AUDIT_ARCHIVER_STOP_TIMEOUT_MS',
    parser: milliseconds(1000),
    default: ARCHIVER_DEFAULTS.stopTimeoutMs,
    doc: 'longest stop of `archive` after SIGTERM or a fault; then it exits anyway',
  }),
} as const;

export const EXPORTER_SETTINGS = {
  exportsPrefix: setting({
    name: 'AUDIT_EXPORTS_PREFIX',
    parser: keyPrefix,
    default: EXPORT_JOB_DEFAULTS.exportsPrefix,
    doc: 'key prefix of exports in the archive store; neither it nor `AUDIT_ARCHIVE_PREFIX` may be a prefix of the other',
  }),
  partBytes: setting({
    name: 'AUDIT_EXPORT_PART_BYTES',
    parser: positiveInteger,
    default: EXPORT_JOB_DEFAULTS.partBytes,
    defaultDoc: '8388608 (8 MiB)',
    doc: 'largest part object of an export rendered by `exporter`',
  }),
  groupId: setting({
    name: 'AUDIT_EXPORTER_GROUP',
    parser: text,
    default: EXPORTER_MEMBER_DEFAULTS.groupId,
    doc: 'consumer group of `exporter`',
  }),
  transactionalIdPrefix: setting({
    name: 'AUDIT_EXPORTER_TRANSACTIONAL_ID',
    parser: text,
    defaultDoc: '`audit-exporter.<AUDIT_EXPORT_REQUESTS_TOPIC>`',
    doc: 'prefix of the transactional ids of `exporter` (`-<partition>` is added); the same on every member',
  }),
  sessionTimeoutMs: setting({
    name: 'AUDIT_EXPORTER_SESSION_TIMEOUT_MS',
    parser: milliseconds(6000),
    default: EXPORTER_MEMBER_DEFAULTS.sessionTimeoutMs,
    doc: 'consumer session timeout of `exporter`',
  }),
  waitTimeoutMs: setting({
    name: 'AUDIT_EXPORT_WAIT_TIMEOUT_MS',
    parser: milliseconds(1000),
    default: 600_000,
    defaultDoc: '600000 (10 minutes)',
    doc: 'how long `export --submit --wait` waits for the result',
  }),
} as const;

export const SIEM_FEED_SETTINGS = {
  groupId: setting({
    name: 'AUDIT_SIEM_FEED_GROUP',
    parser: text,
    defaultDoc: '`audit-siem-<format>`',
    doc: 'consumer group of `siem-feed`',
  }),
  transactionalIdPrefix: setting({
    name: 'AUDIT_SIEM_FEED_TRANSACTIONAL_ID',
    parser: text,
    defaultDoc: '`<AUDIT_SIEM_FEED_GROUP>.<AUDIT_TOPIC>`',
    doc: 'prefix of the transactional ids of `siem-feed` (`-<partition>` is added); the same on every member',
  }),
  batchEvents: setting({
    name: 'AUDIT_SIEM_FEED_BATCH_EVENTS',
    parser: positiveInteger,
    default: SIEM_FEED_DEFAULTS.batchEvents,
    doc: 'most events of one partition that `siem-feed` publishes in one transaction',
  }),
  sessionTimeoutMs: setting({
    name: 'AUDIT_SIEM_FEED_SESSION_TIMEOUT_MS',
    parser: milliseconds(6000),
    default: SIEM_FEED_DEFAULTS.sessionTimeoutMs,
    doc: 'consumer session timeout of `siem-feed`',
  }),
} as const;

export const MONITOR_SETTINGS = {
  groupId: setting({
    name: 'AUDIT_MONITOR_GROUP',
    parser: text,
    default: MONITOR_MEMBER_DEFAULTS.groupId,
    doc: 'consumer group of `monitor`',
  }),
  rules: setting({
    name: 'AUDIT_MONITOR_RULES',
    parser: filePath,
    defaultDoc: 'the built-in rules',
    doc: 'rules file of `monitor` (JSON; what it names overrides the defaults, see docs/monitor.md; also `--rules FILE`)',
  }),
  transactionalIdPrefix: setting({
    name: 'AUDIT_MONITOR_TRANSACTIONAL_ID',
    parser: text,
    defaultDoc: '`<AUDIT_MONITOR_GROUP>`',
    doc: 'prefix of the transactional ids of `monitor` (`.<input topic>-<partition>` is added); the same on every member',
  }),
  batchEvents: setting({
    name: 'AUDIT_MONITOR_BATCH_EVENTS',
    parser: positiveInteger,
    default: MONITOR_MEMBER_DEFAULTS.batchEvents,
    doc: 'most records of one partition that `monitor` routes or evaluates in one transaction',
  }),
  sessionTimeoutMs: setting({
    name: 'AUDIT_MONITOR_SESSION_TIMEOUT_MS',
    parser: milliseconds(6000),
    default: MONITOR_MEMBER_DEFAULTS.sessionTimeoutMs,
    doc: 'consumer session timeout of `monitor`',
  }),
} as const;

export const METRICS_SETTINGS = {
  port: setting({
    name: 'AUDIT_METRICS_PORT',
    parser: port,
    defaultDoc: 'unset: no metrics endpoint',
    doc: 'port of `GET /metrics` (Prometheus text format) of `archive` (not `--once`), `exporter`, `siem-feed`, `monitor` and `serve` (0: any free port); unset: none; see docs/metrics.md',
  }),
  host: setting({
    name: 'AUDIT_METRICS_HOST',
    parser: text,
    default: '127.0.0.1',
    doc: 'address the metrics endpoint listens on',
  }),
} as const;

export const S3_SETTINGS = {
  bucket: setting({
    name: 'S3_BUCKET',
    parser: text,
    defaultDoc: 'required for `s3`',
    doc: 'bucket of the archive',
  }),
  endpoint: setting({
    name: 'S3_ENDPOINT',
    parser: matching(/^https?:\/\/[^\s/]+/, 'an http(s) URL'),
    defaultDoc: 'AWS',
    doc: 'URL of an S3-compatible server (path-style requests)',
  }),
  region: setting({
    name: 'AWS_REGION',
    parser: text,
    default: S3_STORE_DEFAULTS.region,
    doc: 'region',
  }),
  accessKeyId: setting({
    name: 'AWS_ACCESS_KEY_ID',
    parser: text,
    defaultDoc: "the SDK's default chain",
    doc: 'static credentials, with `AWS_SECRET_ACCESS_KEY`',
  }),
  secretAccessKey: setting({
    name: 'AWS_SECRET_ACCESS_KEY',
    parser: text,
    secret: true,
    defaultDoc: "the SDK's default chain",
    doc: 'static credentials, with `AWS_ACCESS_KEY_ID`',
  }),
  sse: setting({
    name: 'S3_SSE',
    parser: oneOf(['AES256', 'aws:kms']),
    doc: 'server-side encryption',
  }),
  kmsKeyId: setting({ name: 'S3_SSE_KMS_KEY_ID', parser: text, doc: 'KMS key for `aws:kms`' }),
  lockMode: setting({
    name: 'S3_OBJECT_LOCK_MODE',
    parser: oneOf(['GOVERNANCE', 'COMPLIANCE']),
    doc: 'Object Lock retention of each object, with `S3_OBJECT_LOCK_DAYS`',
  }),
  lockDays: setting({
    name: 'S3_OBJECT_LOCK_DAYS',
    parser: positiveInteger,
    doc: 'days of Object Lock retention, with `S3_OBJECT_LOCK_MODE`',
  }),
} as const;

export interface SettingSection {
  title: string;
  rows: readonly Setting<unknown>[];
}

/** Every setting, in the sections of the help text and docs/configuration.md. */
export const SETTING_SECTIONS: readonly SettingSection[] = [
  { title: 'Pipeline', rows: Object.values(PIPELINE_SETTINGS) },
  { title: 'Archive', rows: Object.values(ARCHIVE_SETTINGS) },
  { title: 'Exporter', rows: Object.values(EXPORTER_SETTINGS) },
  { title: 'SIEM feed', rows: Object.values(SIEM_FEED_SETTINGS) },
  { title: 'Monitor', rows: Object.values(MONITOR_SETTINGS) },
  { title: 'Topics', rows: Object.values(TOPIC_SETTINGS) },
  { title: 'Kafka connection', rows: Object.values(KAFKA_SETTINGS) },
  { title: 'S3', rows: Object.values(S3_SETTINGS) },
  { title: 'HTTP service', rows: Object.values(HTTP_SETTINGS) },
  { title: 'Metrics', rows: Object.values(METRICS_SETTINGS) },
];

export const KNOWN_SETTINGS: ReadonlySet<string> = new Set(
  SETTING_SECTIONS.flatMap((section) => section.rows.map((row) => row.name)),
);

/**
 * Prefixes of settings that belong to the servers the pipeline talks to: their
 * clients read more than this table names (AWS_PROFILE, say), so a config file
 * may hold any of them.
 */
export const SERVER_PREFIXES = ['KAFKA_', 'S3_', 'AWS_'] as const;

/** Whether a config file may hold `name`: a known setting or a server's. */
export function isAllowedSetting(name: string): boolean {
  return KNOWN_SETTINGS.has(name) || SERVER_PREFIXES.some((prefix) => name.startsWith(prefix));
}
