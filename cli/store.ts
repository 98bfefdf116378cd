/** The archive store the settings name: the local folder or S3. */
import { LocalDirStore } from '../consumers/object-store/local-dir-store.js';
import type { ObjectStore } from '../consumers/object-store/object-store.js';
import { S3Store } from '../consumers/object-store/s3-store.js';
import type { CliSettings } from './config.js';

export function archiveStore(settings: CliSettings, archiveDir?: string): ObjectStore {
  if (settings.archiveStore === 's3' && settings.s3 !== undefined && archiveDir === undefined)
    return new S3Store(settings.s3);
  return new LocalDirStore(archiveDir ?? settings.archiveDir);
}
