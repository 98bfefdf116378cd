/**
 * Logging through pino. Library code takes a logger by injection and defaults to
 * a silent one; the CLI makes one that writes JSON lines to stderr. Fields that
 * can carry secrets are redacted wherever they appear.
 */
import { pino, type Logger } from 'pino';

export const REDACTED_PATHS = [
  'password',
  '*.password',
  'secret',
  '*.secret',
  '*.secretAccessKey',
  '*.sasl',
  'sasl',
  '*.key',
  'authorization',
  '*.authorization',
  '*.token',
];

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A logger to stderr; level from AUDIT_LOG_LEVEL, default `warn`. */
export function cliLogger(level: string = process.env['AUDIT_LOG_LEVEL'] ?? 'warn'): Logger {
  return pino(
    { level, redact: { paths: REDACTED_PATHS, censor: '[redacted]' } },
    pino.destination(2),
  );
}
