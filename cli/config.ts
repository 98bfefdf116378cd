/** Settings of the local pipeline from the environment, overridable by options. */
import { ConfigError } from '../common/errors.js';

export interface LocalSettings {
  spoolDir: string;
  archiveDir: string;
  prefix: string;
}

export function localSettings(env: NodeJS.ProcessEnv = process.env): LocalSettings {
  const prefix = env['AUDIT_ARCHIVE_PREFIX'] ?? 'events';
  if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(prefix)) {
    throw new ConfigError(
      'AUDIT_ARCHIVE_PREFIX',
      `"${prefix}" is not a key prefix (letters, digits, . _ - and /)`,
    );
  }
  return {
    spoolDir: nonEmpty(env, 'AUDIT_SPOOL_DIR') ?? './audit-data/spool',
    archiveDir: nonEmpty(env, 'AUDIT_ARCHIVE_DIR') ?? './audit-data/archive',
    prefix,
  };
}

function nonEmpty(env: NodeJS.ProcessEnv, name: string): string | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  if (value.trim() === '') throw new ConfigError(name, 'is set but empty');
  return value;
}
