/**
 * Logging through pino. Library code takes a logger by injection and defaults to
 * a silent one; the CLI makes one that writes to stderr, JSON lines or short
 * text lines on a terminal (AUDIT_LOG_FORMAT). Fields that
 * can carry secrets are redacted at the top level and one level down, which is
 * where this code puts settings (e.g. `{ sasl: {...} }`, `{ kafka: { sasl } }`).
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { textDestination } from './log-text.js';

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

/** `json`: pino's JSON lines; `text`: short lines for a person; `auto`: text on a terminal, else JSON. */
export const LOG_FORMATS = ['auto', 'json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const LOG_DEFAULTS = { level: 'warn', format: 'auto' } as const satisfies {
  level: LogLevel;
  format: LogFormat;
};

/** The format `auto` stands for: text when stderr is a terminal, JSON for files, pipes and collectors. */
export function resolveLogFormat(
  format: LogFormat,
  isTerminal: boolean = process.stderr.isTTY,
): 'json' | 'text' {
  if (format !== 'auto') return format;
  return isTerminal ? 'text' : 'json';
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/**
 * A logger to stderr (or `destination`); level from AUDIT_LOG_LEVEL, default
 * `warn`. `text` formats each line after redaction, so secrets stay out of both.
 */
export function cliLogger(
  level: string = process.env['AUDIT_LOG_LEVEL'] ?? LOG_DEFAULTS.level,
  destination: DestinationStream = pino.destination(2),
  format: 'json' | 'text' = 'json',
): Logger {
  return pino(
    { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    format === 'text' ? textDestination(destination) : destination,
  );
}
