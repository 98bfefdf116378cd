/** The archive store the settings name: the local folder or S3, encrypted client-side when a key is set. */
import { readFileSync } from 'node:fs';
import { ConfigError } from '../common/errors.js';
import { EncryptingStore, parseEncryptionKey } from '../consumers/object-store/encrypting-store.js';
import { LocalDirStore } from '../consumers/object-store/local-dir-store.js';
import type { ObjectStore } from '../consumers/object-store/object-store.js';
import { S3Store } from '../consumers/object-store/s3-store.js';
import type { CliSettings } from './config.js';

export function archiveStore(settings: CliSettings, archiveDir?: string): ObjectStore {
  const store =
    settings.archiveStore === 's3' && settings.s3 !== undefined && archiveDir === undefined
      ? new S3Store(settings.s3)
      : new LocalDirStore(archiveDir ?? settings.archiveDir);
  const keyFile = settings.encryptionKeyFile;
  if (keyFile === undefined) return store;
  let text: string;
  try {
    text = readFileSync(keyFile, 'utf8');
  } catch (error) {
    throw new ConfigError(
      'AUDIT_ENCRYPTION_KEY_FILE',
      `cannot read ${keyFile}: ${(error as Error).message}`,
    );
  }
  return new EncryptingStore(store, parseEncryptionKey('AUDIT_ENCRYPTION_KEY_FILE', text));
}
