/**
 * Connection settings toward Kafka: brokers, TLS and SASL. Validated once; every
 * mistake is a ConfigError naming the setting. Secrets are never part of
 * `describeKafka`, which is what logs and reports show.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import {
  type Env,
  filePath,
  flag,
  isSet,
  listOf,
  oneOf,
  positiveInteger,
  readSetting,
  type Setting,
  type SettingParser,
  setting,
  text,
} from '../common/settings.js';

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaTlsSettings {
  /** PEM text of the CA certificates to trust; the system store when absent. */
  ca?: string | undefined;
  /** PEM client certificate and key, for mutual TLS. */
  cert?: string | undefined;
  key?: string | undefined;
  /** @defaultValue true */
  rejectUnauthorized: boolean;
}

export interface KafkaSettings {
  /** `host:port` of one or more brokers. */
  brokers: string[];
  /** @defaultValue 'audit-trail' */
  clientId: string;
  /** TLS toward the brokers; off when undefined. */
  tls?: KafkaTlsSettings | undefined;
  sasl?: { mechanism: SaslMechanism; username: string; password: string } | undefined;
  /** @defaultValue 10000 */
  connectionTimeoutMs: number;
  /** @defaultValue 30000 */
  requestTimeoutMs: number;
}

export const KAFKA_DEFAULTS = {
  clientId: 'audit-trail',
  connectionTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
} as const satisfies Partial<KafkaSettings>;

const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

const broker: SettingParser<string> = {
  expects: 'host:port',
  parse: (raw) => {
    const port = Number(raw.slice(raw.lastIndexOf(':') + 1));
    return BROKER.test(raw) && port >= 1 && port <= 65535 ? raw : undefined;
  },
};

/** The environment variables of the Kafka connection (see docs/configuration.md). */
export const KAFKA_SETTINGS = {
  brokers: setting({
    name: 'KAFKA_BROKERS',
    parser: listOf(broker),
    defaultDoc: 'required for `kafka`',
    doc: 'brokers to connect to',
  }),
  clientId: setting({
    name: 'KAFKA_CLIENT_ID',
    parser: text,
    default: KAFKA_DEFAULTS.clientId,
    doc: 'client id shown in broker logs',
  }),
  tls: setting({ name: 'KAFKA_TLS', parser: flag, default: false, doc: 'TLS toward the brokers' }),
  tlsCaFile: setting({
    name: 'KAFKA_TLS_CA_FILE',
    parser: filePath,
    defaultDoc: 'system store',
    doc: 'PEM file of CA certificates to trust',
  }),
  tlsCertFile: setting({
    name: 'KAFKA_TLS_CERT_FILE',
    parser: filePath,
    doc: 'client certificate (mutual TLS), with `KAFKA_TLS_KEY_FILE`',
  }),
  tlsKeyFile: setting({
    name: 'KAFKA_TLS_KEY_FILE',
    parser: filePath,
    doc: 'client key (mutual TLS), with `KAFKA_TLS_CERT_FILE`',
  }),
  tlsRejectUnauthorized: setting({
    name: 'KAFKA_TLS_REJECT_UNAUTHORIZED',
    parser: flag,
    default: true,
    doc: '`false` accepts any server certificate (testing only)',
  }),
  saslMechanism: setting({
    name: 'KAFKA_SASL_MECHANISM',
    parser: oneOf(SASL_MECHANISMS, { ignoreCase: true, emptyIsUnset: true }),
    doc: 'SASL mechanism',
  }),
  saslUsername: setting({
    name: 'KAFKA_SASL_USERNAME',
    parser: text,
    defaultDoc: 'required with a mechanism',
    doc: 'SASL user',
  }),
  saslPasswordFile: setting({
    name: 'KAFKA_SASL_PASSWORD_FILE',
    parser: filePath,
    doc: 'file holding the SASL password (preferred)',
  }),
  saslPassword: setting({
    name: 'KAFKA_SASL_PASSWORD',
    parser: text,
    secret: true,
    doc: 'the SASL password itself',
  }),
  connectionTimeoutMs: setting({
    name: 'KAFKA_CONNECTION_TIMEOUT_MS',
    parser: positiveInteger,
    default: KAFKA_DEFAULTS.connectionTimeoutMs,
    doc: 'connection timeout (ms)',
  }),
  requestTimeoutMs: setting({
    name: 'KAFKA_REQUEST_TIMEOUT_MS',
    parser: positiveInteger,
    default: KAFKA_DEFAULTS.requestTimeoutMs,
    doc: 'request timeout (ms)',
  }),
} as const;

function readFile(row: Setting<string>, env: Env): string | undefined {
  const path = readSetting(env, row);
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(row.name, `cannot read ${path}: ${(error as Error).message}`);
  }
}

/** Kafka settings from environment variables (see docs/kafka.md). */
export function kafkaSettingsFromEnv(env: Env = process.env): KafkaSettings {
  const s = KAFKA_SETTINGS;
  const brokers = readSetting(env, s.brokers);
  if (brokers === undefined) {
    throw new ConfigError(
      s.brokers.name,
      'is required for the kafka transport (e.g. 127.0.0.1:9092)',
    );
  }
  const tls: KafkaTlsSettings | undefined = readSetting(env, s.tls)
    ? {
        ca: readFile(s.tlsCaFile, env),
        cert: readFile(s.tlsCertFile, env),
        key: readFile(s.tlsKeyFile, env),
        rejectUnauthorized: readSetting(env, s.tlsRejectUnauthorized),
      }
    : undefined;
  if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError(s.tlsCertFile.name, `and ${s.tlsKeyFile.name} must be given together`);
  }
  return {
    brokers,
    clientId: readSetting(env, s.clientId),
    tls,
    sasl: saslSettings(env),
    connectionTimeoutMs: readSetting(env, s.connectionTimeoutMs),
    requestTimeoutMs: readSetting(env, s.requestTimeoutMs),
  };
}

function saslSettings(env: Env): KafkaSettings['sasl'] {
  const s = KAFKA_SETTINGS;
  const mechanism = readSetting(env, s.saslMechanism);
  if (mechanism === undefined) {
    if ([s.saslUsername, s.saslPassword, s.saslPasswordFile].some((row) => isSet(env, row))) {
      // credentials without a mechanism would be ignored silently and the connection made without them
      throw new ConfigError(
        s.saslMechanism.name,
        `is required with SASL credentials: one of ${SASL_MECHANISMS.join(', ')}`,
      );
    }
    return undefined;
  }
  if (!isSet(env, s.saslUsername))
    throw new ConfigError(s.saslUsername.name, `is required with ${s.saslMechanism.name}`);
  const password = isSet(env, s.saslPasswordFile)
    ? readFile(s.saslPasswordFile, env)?.trimEnd()
    : readSetting(env, s.saslPassword);
  if (password === undefined || password === '') {
    throw new ConfigError(
      s.saslPassword.name,
      `or ${s.saslPasswordFile.name} is required with ${s.saslMechanism.name}`,
    );
  }
  return { mechanism, username: readSetting(env, s.saslUsername) as string, password };
}

/** What may be logged about the settings: no password, no key material. */
export function describeKafka(settings: KafkaSettings): Record<string, unknown> {
  return {
    brokers: settings.brokers,
    clientId: settings.clientId,
    tls:
      settings.tls === undefined
        ? false
        : { ca: settings.tls.ca !== undefined, mutual: settings.tls.cert !== undefined },
    sasl:
      settings.sasl === undefined
        ? false
        : { mechanism: settings.sasl.mechanism, username: settings.sasl.username },
  };
}
