/**
 * Connection settings toward Kafka: brokers, TLS and SASL. Validated once; every
 * mistake is a ConfigError naming the setting. Secrets are never part of
 * `describeKafka`, which is what logs and reports show.
 */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';

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

const BROKER = /^[A-Za-z0-9.-]+:\d{1,5}$|^\[[0-9A-Fa-f:.]+\]:\d{1,5}$/;

export function parseBrokers(setting: string, value: string): string[] {
  const brokers = value
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0)
    throw new ConfigError(setting, 'must list at least one broker as host:port');
  for (const broker of brokers) {
    const port = Number(broker.slice(broker.lastIndexOf(':') + 1));
    if (!BROKER.test(broker) || port < 1 || port > 65535) {
      throw new ConfigError(setting, `"${broker}" is not host:port`);
    }
  }
  return brokers;
}

function readPem(setting: string, path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(setting, `cannot read ${path}: ${(error as Error).message}`);
  }
}

function flag(setting: string, value: string | undefined, fallback: boolean): boolean {
  if (value === undefined || value === '') return fallback;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new ConfigError(setting, `must be true or false, got "${value}"`);
}

function positive(setting: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0)
    throw new ConfigError(setting, `must be a positive whole number, got "${value}"`);
  return n;
}

/** Kafka settings from environment variables (see docs/kafka.md). */
export function kafkaSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): KafkaSettings {
  const brokers = env['KAFKA_BROKERS'];
  if (brokers === undefined || brokers.trim() === '') {
    throw new ConfigError(
      'KAFKA_BROKERS',
      'is required for the kafka transport (e.g. 127.0.0.1:9092)',
    );
  }
  const tlsOn = flag('KAFKA_TLS', env['KAFKA_TLS'], false);
  const tls: KafkaTlsSettings | undefined = tlsOn
    ? {
        ca: readPem('KAFKA_TLS_CA_FILE', env['KAFKA_TLS_CA_FILE']),
        cert: readPem('KAFKA_TLS_CERT_FILE', env['KAFKA_TLS_CERT_FILE']),
        key: readPem('KAFKA_TLS_KEY_FILE', env['KAFKA_TLS_KEY_FILE']),
        rejectUnauthorized: flag(
          'KAFKA_TLS_REJECT_UNAUTHORIZED',
          env['KAFKA_TLS_REJECT_UNAUTHORIZED'],
          true,
        ),
      }
    : undefined;
  if (tls !== undefined && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new ConfigError('KAFKA_TLS_CERT_FILE', 'and KAFKA_TLS_KEY_FILE must be given together');
  }
  let sasl: KafkaSettings['sasl'];
  const mechanism = env['KAFKA_SASL_MECHANISM']?.toLowerCase();
  if (mechanism !== undefined && mechanism !== '') {
    if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism)) {
      throw new ConfigError(
        'KAFKA_SASL_MECHANISM',
        `must be one of ${SASL_MECHANISMS.join(', ')}, got "${mechanism}"`,
      );
    }
    const username = env['KAFKA_SASL_USERNAME'];
    const passwordFile = env['KAFKA_SASL_PASSWORD_FILE'];
    const password =
      passwordFile !== undefined
        ? readPem('KAFKA_SASL_PASSWORD_FILE', passwordFile)?.trimEnd()
        : env['KAFKA_SASL_PASSWORD'];
    if (username === undefined || username === '')
      throw new ConfigError('KAFKA_SASL_USERNAME', 'is required with KAFKA_SASL_MECHANISM');
    if (password === undefined || password === '') {
      throw new ConfigError(
        'KAFKA_SASL_PASSWORD',
        'or KAFKA_SASL_PASSWORD_FILE is required with KAFKA_SASL_MECHANISM',
      );
    }
    sasl = { mechanism: mechanism as SaslMechanism, username, password };
  } else if (
    (env['KAFKA_SASL_USERNAME'] ?? '') !== '' ||
    (env['KAFKA_SASL_PASSWORD'] ?? '') !== '' ||
    (env['KAFKA_SASL_PASSWORD_FILE'] ?? '') !== ''
  ) {
    // credentials without a mechanism would be ignored silently and the connection made without them
    throw new ConfigError(
      'KAFKA_SASL_MECHANISM',
      `is required with SASL credentials: one of ${SASL_MECHANISMS.join(', ')}`,
    );
  }
  return {
    brokers: parseBrokers('KAFKA_BROKERS', brokers),
    clientId: env['KAFKA_CLIENT_ID'] ?? 'audit-trail',
    tls,
    sasl,
    connectionTimeoutMs: positive(
      'KAFKA_CONNECTION_TIMEOUT_MS',
      env['KAFKA_CONNECTION_TIMEOUT_MS'],
      10_000,
    ),
    requestTimeoutMs: positive('KAFKA_REQUEST_TIMEOUT_MS', env['KAFKA_REQUEST_TIMEOUT_MS'], 30_000),
  };
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
