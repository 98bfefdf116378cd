import { LocalDirStore } from '../../consumers/object-store/local-dir-store.js';
import { SpoolArchiver } from '../../consumers/archiver/spool-archiver.js';
import type { Logger } from 'pino';
import { parseOptions } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';

export async function archiveCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, {
    once: { type: 'boolean', default: false },
    spool: { type: 'string' },
    archive: { type: 'string' },
    config: { type: 'string' },
  });
  const settings = cliSettings(effectiveEnv(o.config));
  const archiver = new SpoolArchiver({
    spoolDir: o.spool ?? settings.spoolDir,
    store: new LocalDirStore(o.archive ?? settings.archiveDir),
    prefix: settings.prefix,
    logger,
  });
  let stats;
  if (o.once) {
    stats = await archiver.drain();
  } else {
    const stop = new AbortController();
    const onSignal = (): void => stop.abort();
    process.once('SIGTERM', onSignal);
    process.once('SIGINT', onSignal);
    stats = await archiver.run(stop.signal);
  }
  process.stdout.write(
    `archived ${stats.records} events into ${stats.objects} objects (${stats.deadLetters} dead letters)\n`,
  );
  return 0;
}
