/**
 * The archiver of the embedded pipeline: the archiver stage over the local
 * spool (one partition), with its dead letters as objects beside the archive.
 * Progress lives in the archive; spool segments are released once every
 * record in them is archived.
 */
import { SpoolSource, type SpoolSourceOptions } from '../runtime/spool-source.js';
import { Archiver, ARCHIVER_DEFAULTS, type ArchiverOptions } from './archiver.js';
import { StoreDeadLetters } from './store-dead-letters.js';

export interface SpoolArchiverOptions
  extends
    Omit<ArchiverOptions, 'source' | 'deadLetters'>,
    Omit<SpoolSourceOptions, 'logger' | 'schemas'> {}

export function spoolArchiver(options: SpoolArchiverOptions): Archiver {
  const { spoolDir, pollMs, readRecords, ...archiver } = options;
  const source = new SpoolSource({
    spoolDir,
    pollMs,
    readRecords,
    logger: options.logger,
    schemas: options.schemas,
  });
  const deadLetters = new StoreDeadLetters(
    options.store,
    options.prefix ?? ARCHIVER_DEFAULTS.prefix,
  );
  return new Archiver({ ...archiver, source, deadLetters });
}
