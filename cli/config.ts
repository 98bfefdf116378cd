/**
 * Settings of the command line: environment variables, optionally under a
 * config file of `NAME=value` lines (the same names; the environment wins).
 * Every mistake is a ConfigError naming the setting.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import { kafkaSettingsFromEnv, type KafkaSettings } from '../kafka/settings.js';
import { topicSettingsFromEnv, type TopicSettings } from '../kafka/topics.js';

const AUDIT_SETTINGS = new Set([
  'AUDIT_CONFIG',
  'AUDIT_TRANSPORT',
  'AUDIT_SPOOL_DIR',
  'AUDIT_ARCHIVE_DIR',
  'AUDIT_ARCHIVE_PREFIX',
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
    if (match === null)
      throw new ConfigError(`${path}:${index + 1}`, `expected NAME=value, got "${line}"`);
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

export interface CliSettings {
  transport: TransportKind;
  spoolDir: string;
  archiveDir: string;
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
  const prefix = env['AUDIT_ARCHIVE_PREFIX'] ?? 'events';
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
  return {
    transport,
    spoolDir: nonEmpty(env, 'AUDIT_SPOOL_DIR') ?? './audit-data/spool',
    archiveDir: nonEmpty(env, 'AUDIT_ARCHIVE_DIR') ?? './audit-data/archive',
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
