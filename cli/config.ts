/**
 * Settings of the command line: environment variables, optionally under a
 * config file of `NAME=value` lines (the same names; the environment wins).
 * Every mistake is a ConfigError naming the setting.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import { kafkaSettingsFromEnv, type KafkaSettings } from '../kafka/settings.js';
import { topicSettingsFromEnv, type TopicSettings } from '../kafka/topics.js';
import type { S3StoreOptions } from '../consumers/object-store/s3-store.js';
import type { BatchPolicy } from '../consumers/archiver/batch-policy.js';
import { ARCHIVER_DEFAULTS } from '../consumers/archiver/archiver.js';
import { GROUP_CONSUMER_DEFAULTS } from '../consumers/runtime/group-consumer.js';

const AUDIT_SETTINGS = new Set([
  'AUDIT_CONFIG',
  'AUDIT_TRANSPORT',
  'AUDIT_SPOOL_DIR',
  'AUDIT_ARCHIVE_DIR',
  'AUDIT_ARCHIVE_PREFIX',
  'AUDIT_ARCHIVE_STORE',
  'AUDIT_ARCHIVER_SESSION_TIMEOUT_MS',
  'AUDIT_ARCHIVER_STOP_TIMEOUT_MS',
  'AUDIT_BATCH_MAX_EVENTS',
  'AUDIT_BATCH_MAX_BYTES',
  'AUDIT_BATCH_MAX_AGE_MS',
  'AUDIT_SIGNING_KEY_FILE',
  'AUDIT_VERIFY_KEY_FILE',
  'AUDIT_VERIFY_GRACE_MS',
  'AUDIT_DIGEST_INTERVAL_MS',
  'AUDIT_ENCRYPTION_KEY_FILE',
  'AUDIT_LOG_LEVEL',
  'AUDIT_SOURCE',
  'AUDIT_TOPIC',
  'AUDIT_DLQ_TOPIC',
  'AUDIT_ALERTS_TOPIC',
  'AUDIT_TOPIC_PARTITIONS',
  'AUDIT_TOPIC_REPLICATION',
  'AUDIT_TOPIC_MIN_INSYNC',
  'AUDIT_TOPIC_RETENTION_MS',
]);
/** Prefixes of settings that belong to the servers the pipeline talks to. */
const SERVER_PREFIXES = ['KAFKA_', 'S3_', 'AWS_'];

/** Reads a config file of `NAME=value` lines (blank lines and `#` comments allowed). */
export function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError('AUDIT_CONFIG', `cannot read ${path}: ${(error as Error).message}`);
  }
  const settings: Record<string, string> = {};
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const match = /^(?:export\s+)?([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
    if (match === null) {
      // the line may hold a secret: name the setting if one can be read, never the value
      const name = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*[=:]/.exec(line)?.[1];
      throw new ConfigError(
        `${path}:${index + 1}`,
        name === undefined
          ? 'is not a NAME=value line (its content is not shown, it may hold a secret)'
          : `${name}: expected NAME=value with no spaces around = (the value is not shown)`,
      );
    }
    const [, name, rawValue] = match as unknown as [string, string, string];
    if (!AUDIT_SETTINGS.has(name) && !SERVER_PREFIXES.some((p) => name.startsWith(p))) {
      throw new ConfigError(`${path}:${index + 1}`, `unknown setting ${name}`);
    }
    settings[name] = rawValue.replace(/^(["'])(.*)\1$/, '$2');
  });
  return settings;
}

/** The environment with a config file (from `configPath` or AUDIT_CONFIG) underneath it. */
export function effectiveEnv(
  configPath?: string,
  env: NodeJS.ProcessEnv = process.env,
): NodeJS.ProcessEnv {
  const path = configPath ?? env['AUDIT_CONFIG'];
  if (path === undefined || path === '') return env;
  return { ...readConfigFile(path), ...env };
}

export type TransportKind = 'local' | 'kafka';
export type ArchiveStoreKind = 'dir' | 's3';

export interface CliSettings {
  transport: TransportKind;
  spoolDir: string;
  archiveDir: string;
  /** Where archive objects go: the local folder or S3. */
  archiveStore: ArchiveStoreKind;
  /** Present when the archive store is S3. */
  s3: S3StoreOptions | undefined;
  /** Batch rotation of the archiver; defaults where unset. */
  batch: Partial<BatchPolicy>;
  /** Ed25519 private key (PEM file) that signs digests; none: no digests. */
  signingKeyFile: string | undefined;
  /** Ed25519 public key (PEM file) that `verify` checks digests with. */
  verifyKeyFile: string | undefined;
  /** @defaultValue 3600000 */
  digestIntervalMs: number;
  /** How old the newest digest of a partition may be for `verify`. @defaultValue 2 digest intervals + 10 minutes */
  verifyGraceMs: number;
  /** Consumer session timeout of the archiver. @defaultValue 30000 */
  archiverSessionTimeoutMs: number;
  /** How long `archive` may take to stop (SIGTERM, a fault) before it exits anyway. @defaultValue 10000 */
  archiverStopTimeoutMs: number;
  /** File holding the AES-256 key (hex or base64) for client-side encryption of archive objects. */
  encryptionKeyFile: string | undefined;
  prefix: string;
  source: string | undefined;
  topics: TopicSettings;
  /** Present when KAFKA_BROKERS is set (always for the kafka transport). */
  kafka: KafkaSettings | undefined;
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new ConfigError(name, 'is set but empty');
  return value;
}

export function cliSettings(env: NodeJS.ProcessEnv): CliSettings {
  const transport = env['AUDIT_TRANSPORT'] ?? 'local';
  if (transport !== 'local' && transport !== 'kafka') {
    throw new ConfigError('AUDIT_TRANSPORT', `must be local or kafka, got "${transport}"`);
  }
  const prefix = env['AUDIT_ARCHIVE_PREFIX'] ?? ARCHIVER_DEFAULTS.prefix;
  if (
    !prefix
      .split('/')
      .every((part) => /^[A-Za-z0-9._-]+$/.test(part) && part !== '.' && part !== '..')
  ) {
    throw new ConfigError(
      'AUDIT_ARCHIVE_PREFIX',
      `"${prefix}" is not a key prefix (letters, digits, . _ - and /)`,
    );
  }
  const wantsKafka = transport === 'kafka' || (env['KAFKA_BROKERS'] ?? '') !== '';
  const archiveStore = env['AUDIT_ARCHIVE_STORE'] ?? 'dir';
  if (archiveStore !== 'dir' && archiveStore !== 's3') {
    throw new ConfigError('AUDIT_ARCHIVE_STORE', `must be dir or s3, got "${archiveStore}"`);
  }
  const digestIntervalMs = milliseconds(
    env,
    'AUDIT_DIGEST_INTERVAL_MS',
    1000,
    ARCHIVER_DEFAULTS.digestIntervalMs,
  );
  return {
    transport,
    spoolDir: nonEmpty(env, 'AUDIT_SPOOL_DIR') ?? './audit-data/spool',
    archiveDir: nonEmpty(env, 'AUDIT_ARCHIVE_DIR') ?? './audit-data/archive',
    archiveStore,
    s3: archiveStore === 's3' ? s3Settings(env) : undefined,
    batch: batchSettings(env),
    signingKeyFile: nonEmpty(env, 'AUDIT_SIGNING_KEY_FILE'),
    verifyKeyFile: nonEmpty(env, 'AUDIT_VERIFY_KEY_FILE'),
    digestIntervalMs,
    // two digest intervals and ten minutes: a running archiver writes a digest every interval
    verifyGraceMs: milliseconds(env, 'AUDIT_VERIFY_GRACE_MS', 1000, 2 * digestIntervalMs + 600_000),
    archiverSessionTimeoutMs: milliseconds(
      env,
      'AUDIT_ARCHIVER_SESSION_TIMEOUT_MS',
      6000,
      GROUP_CONSUMER_DEFAULTS.sessionTimeoutMs,
    ),
    archiverStopTimeoutMs: milliseconds(env, 'AUDIT_ARCHIVER_STOP_TIMEOUT_MS', 1000, 10_000),
    encryptionKeyFile: nonEmpty(env, 'AUDIT_ENCRYPTION_KEY_FILE'),
    prefix,
    source: nonEmpty(env, 'AUDIT_SOURCE'),
    topics: topicSettingsFromEnv(env),
    kafka: wantsKafka ? kafkaSettingsFromEnv(env) : undefined,
  };
}

/** Kafka settings, or a ConfigError saying that KAFKA_BROKERS is needed. */
export function requireKafka(settings: CliSettings): KafkaSettings {
  if (settings.kafka === undefined) {
    throw new ConfigError('KAFKA_BROKERS', 'is required for this command (e.g. 127.0.0.1:9092)');
  }
  return settings.kafka;
}

/** S3 settings: S3_BUCKET, S3_ENDPOINT, AWS_REGION, AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, S3_SSE, S3_SSE_KMS_KEY_ID, S3_OBJECT_LOCK_MODE and _DAYS. */
export function s3Settings(env: NodeJS.ProcessEnv): S3StoreOptions {
  const bucket = nonEmpty(env, 'S3_BUCKET');
  if (bucket === undefined)
    throw new ConfigError('S3_BUCKET', 'is required when AUDIT_ARCHIVE_STORE=s3');
  const endpoint = nonEmpty(env, 'S3_ENDPOINT');
  if (endpoint !== undefined && !/^https?:\/\/[^\s/]+/.test(endpoint)) {
    throw new ConfigError('S3_ENDPOINT', `"${endpoint}" is not an http(s) URL`);
  }
  const accessKeyId = nonEmpty(env, 'AWS_ACCESS_KEY_ID');
  const secretAccessKey = nonEmpty(env, 'AWS_SECRET_ACCESS_KEY');
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError('AWS_SECRET_ACCESS_KEY', 'and AWS_ACCESS_KEY_ID must be given together');
  }
  const sse = nonEmpty(env, 'S3_SSE');
  if (sse !== undefined && sse !== 'AES256' && sse !== 'aws:kms') {
    throw new ConfigError('S3_SSE', `must be AES256 or aws:kms, got "${sse}"`);
  }
  const lockMode = nonEmpty(env, 'S3_OBJECT_LOCK_MODE');
  if (lockMode !== undefined && lockMode !== 'GOVERNANCE' && lockMode !== 'COMPLIANCE') {
    throw new ConfigError(
      'S3_OBJECT_LOCK_MODE',
      `must be GOVERNANCE or COMPLIANCE, got "${lockMode}"`,
    );
  }
  const lockDays = Number(env['S3_OBJECT_LOCK_DAYS'] ?? '0');
  if (lockMode !== undefined && (!Number.isInteger(lockDays) || lockDays <= 0)) {
    throw new ConfigError(
      'S3_OBJECT_LOCK_DAYS',
      'must be a positive whole number with S3_OBJECT_LOCK_MODE',
    );
  }
  return {
    bucket,
    endpoint,
    region: env['AWS_REGION'] ?? 'us-east-1',
    credentials:
      accessKeyId === undefined
        ? undefined
        : { accessKeyId, secretAccessKey: secretAccessKey as string },
    serverSideEncryption: sse,
    kmsKeyId: nonEmpty(env, 'S3_SSE_KMS_KEY_ID'),
    objectLock: lockMode === undefined ? undefined : { mode: lockMode, days: lockDays },
  };
}

function batchSettings(env: NodeJS.ProcessEnv): Partial<BatchPolicy> {
  const batch: Partial<BatchPolicy> = {};
  const read = (name: string): number | undefined => {
    const value = env[name];
    if (value === undefined || value === '') return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n <= 0)
      throw new ConfigError(name, `must be a positive whole number, got "${value}"`);
    return n;
  };
  const maxEvents = read('AUDIT_BATCH_MAX_EVENTS');
  const maxBytes = read('AUDIT_BATCH_MAX_BYTES');
  const maxAgeMs = read('AUDIT_BATCH_MAX_AGE_MS');
  if (maxEvents !== undefined) batch.maxEvents = maxEvents;
  if (maxBytes !== undefined) batch.maxBytes = maxBytes;
  if (maxAgeMs !== undefined) batch.maxAgeMs = maxAgeMs;
  return batch;
}

/** A duration setting in whole milliseconds, at least `min`; `fallback` when unset. */
function milliseconds(env: NodeJS.ProcessEnv, name: string, min: number, fallback: number): number {
  const value = env[name];
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < min)
    throw new ConfigError(
      name,
      `must be a whole number of milliseconds, at least ${min}, got "${value}"`,
    );
  return n;
}
