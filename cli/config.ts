/**
 * Settings of the command line: environment variables, optionally under a
 * config file of `NAME=value` lines (the same names; the environment wins),
 * read through the table of cli/settings.ts. Every mistake is a ConfigError
 * naming the setting; values of secret settings are never echoed.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import { type Env, isSet, readSetting } from '../common/settings.js';
import { kafkaSettingsFromEnv, KAFKA_SETTINGS, type KafkaSettings } from '../kafka/settings.js';
import { topicSettingsFromEnv, type TopicSettings } from '../kafka/topics.js';
import type { S3StoreOptions } from '../consumers/object-store/s3-store-options.js';
import type { BatchPolicy } from '../consumers/archiver/batch-policy.js';
import { checkExportsPrefix } from '../consumers/exporter/export-job.js';
import {
  ARCHIVE_SETTINGS,
  EXPORTER_SETTINGS,
  isAllowedSetting,
  PIPELINE_SETTINGS,
  S3_SETTINGS,
  verifyGraceFor,
} from './settings.js';

/** Reads a config file of `NAME=value` lines (blank lines and `#` comments allowed). */
export function readConfigFile(path: string): Record<string, string> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(
      PIPELINE_SETTINGS.config.name,
      `cannot read ${path}: ${(error as Error).message}`,
    );
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
    if (!isAllowedSetting(name)) {
      throw new ConfigError(`${path}:${index + 1}`, `unknown setting ${name}`);
    }
    settings[name] = rawValue.replace(/^(["'])(.*)\1$/, '$2');
  });
  return settings;
}

/** The environment with a config file (from `configPath` or AUDIT_CONFIG) underneath it. */
export function effectiveEnv(configPath?: string, env: Env = process.env): Env {
  const path = configPath ?? env[PIPELINE_SETTINGS.config.name];
  if (path === undefined || path === '') return env;
  return { ...readConfigFile(path), ...env };
}

/** The settings of one command, read and checked; what each means and defaults to is in cli/settings.ts. */
export interface CliSettings {
  transport: 'local' | 'kafka';
  spoolDir: string;
  archiveDir: string;
  archiveStore: 'dir' | 's3';
  /** Present when the archive store is S3. */
  s3: S3StoreOptions | undefined;
  batch: BatchPolicy;
  signingKeyFile: string | undefined;
  verifyKeyFile: string | undefined;
  digestIntervalMs: number;
  verifyGraceMs: number;
  archiverGroupId: string;
  archiverSessionTimeoutMs: number;
  archiverStopTimeoutMs: number;
  archiverObjectsInFlight: number;
  archiverPartitionsConcurrently: number;
  archiverFetchMaxBytes: number;
  archiverFetchMaxBytesPerPartition: number;
  encryptionKeyFile: string | undefined;
  prefix: string;
  /** Key prefix of exports; never overlapping `prefix`. */
  exportsPrefix: string;
  source: string | undefined;
  topics: TopicSettings;
  /** Present when KAFKA_BROKERS is set (always for the kafka transport). */
  kafka: KafkaSettings | undefined;
}

export function cliSettings(env: Env): CliSettings {
  const p = PIPELINE_SETTINGS;
  const a = ARCHIVE_SETTINGS;
  const transport = readSetting(env, p.transport);
  const archiveStore = readSetting(env, a.archiveStore);
  const digestIntervalMs = readSetting(env, a.digestIntervalMs);
  const prefix = readSetting(env, a.prefix);
  const exportsPrefix = readSetting(env, EXPORTER_SETTINGS.exportsPrefix);
  checkExportsPrefix(prefix, exportsPrefix, EXPORTER_SETTINGS.exportsPrefix.name);
  return {
    transport,
    spoolDir: readSetting(env, p.spoolDir),
    archiveDir: readSetting(env, a.archiveDir),
    archiveStore,
    s3: archiveStore === 's3' ? s3Settings(env) : undefined,
    batch: {
      maxEvents: readSetting(env, a.batchMaxEvents),
      maxBytes: readSetting(env, a.batchMaxBytes),
      maxAgeMs: readSetting(env, a.batchMaxAgeMs),
    },
    signingKeyFile: readSetting(env, a.signingKeyFile),
    verifyKeyFile: readSetting(env, a.verifyKeyFile),
    digestIntervalMs,
    verifyGraceMs: readSetting(env, a.verifyGraceMs) ?? verifyGraceFor(digestIntervalMs),
    archiverGroupId: readSetting(env, a.archiverGroupId),
    archiverSessionTimeoutMs: readSetting(env, a.archiverSessionTimeoutMs),
    archiverStopTimeoutMs: readSetting(env, a.archiverStopTimeoutMs),
    archiverObjectsInFlight: readSetting(env, a.archiverObjectsInFlight),
    archiverPartitionsConcurrently: readSetting(env, a.archiverPartitionsConcurrently),
    archiverFetchMaxBytes: readSetting(env, a.archiverFetchMaxBytes),
    archiverFetchMaxBytesPerPartition: readSetting(env, a.archiverFetchMaxBytesPerPartition),
    encryptionKeyFile: readSetting(env, a.encryptionKeyFile),
    prefix,
    exportsPrefix,
    source: readSetting(env, p.source),
    topics: topicSettingsFromEnv(env),
    kafka:
      transport === 'kafka' || isSet(env, KAFKA_SETTINGS.brokers)
        ? kafkaSettingsFromEnv(env)
        : undefined,
  };
}

/** Kafka settings, or a ConfigError saying that KAFKA_BROKERS is needed. */
export function requireKafka(settings: CliSettings): KafkaSettings {
  if (settings.kafka === undefined) {
    throw new ConfigError(
      KAFKA_SETTINGS.brokers.name,
      'is required for this command (e.g. 127.0.0.1:9092)',
    );
  }
  return settings.kafka;
}

/** S3 settings (see S3_SETTINGS); settings that go together are checked together. */
export function s3Settings(env: Env): S3StoreOptions {
  const s = S3_SETTINGS;
  const bucket = readSetting(env, s.bucket);
  if (bucket === undefined)
    throw new ConfigError(s.bucket.name, 'is required when AUDIT_ARCHIVE_STORE=s3');
  const accessKeyId = readSetting(env, s.accessKeyId);
  const secretAccessKey = readSetting(env, s.secretAccessKey);
  if ((accessKeyId === undefined) !== (secretAccessKey === undefined)) {
    throw new ConfigError(
      s.secretAccessKey.name,
      `and ${s.accessKeyId.name} must be given together`,
    );
  }
  const lockMode = readSetting(env, s.lockMode);
  const lockDays = readSetting(env, s.lockDays);
  if (lockMode !== undefined && lockDays === undefined) {
    throw new ConfigError(s.lockDays.name, `is required with ${s.lockMode.name}`);
  }
  return {
    bucket,
    endpoint: readSetting(env, s.endpoint),
    region: readSetting(env, s.region),
    credentials:
      accessKeyId === undefined || secretAccessKey === undefined
        ? undefined
        : { accessKeyId, secretAccessKey },
    serverSideEncryption: readSetting(env, s.sse),
    kmsKeyId: readSetting(env, s.kmsKeyId),
    objectLock:
      lockMode === undefined || lockDays === undefined
        ? undefined
        : { mode: lockMode, days: lockDays },
  };
}
