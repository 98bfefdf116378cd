/**
 * Logging through pino. Library code takes a logger by injection and defaults to
 * a silent one; the CLI makes one that writes JSON lines to stderr. Fields that
 * can carry secrets are redacted at the top level and one level down, which is
 * where this code puts settings (e.g. `{ sasl: {...} }`, `{ kafka: { sasl } }`).
 */
import { pino, type DestinationStream, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  'secretAccessKey',
  '*.secretAccessKey',
  '*.*.secretAccessKey',
  'sessionToken',
  '*.sessionToken',
  'credentials',
  '*.credentials',
  'sasl',
  '*.sasl',
  // private key material by name: a plain `key` field is an archive object's key and stays visible
  'privateKey',
  '*.privateKey',
  'signingKey',
  '*.signingKey',
  'encryptionKey',
  '*.encryptionKey',
  'passphrase',
  '*.passphrase',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
];

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const LOG_DEFAULTS = { level: 'warn' } as const satisfies { level: LogLevel };

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger to stderr (or `destination`); level from AUDIT_LOG_LEVEL, default `warn`. */
export function cliLogger(
  level: string = process.env['AUDIT_LOG_LEVEL'] ?? LOG_DEFAULTS.level,
  destination: DestinationStream = pino.destination(2),
): Logger {
  return pino({ level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } }, destination);
}
