import { archiveStore } from '../store.js';
import { readArchive } from '../../consumers/exporter/archive-reader.js';
import { filterRecords } from '../../consumers/exporter/filter.js';
import { isExportFormat } from '../../consumers/exporter/render.js';
import { exportToFile, writeExport } from '../../consumers/exporter/write-export.js';
import { AUDIT_EVENT_TYPES, isAuditEventType } from '../../producer/event-type.js';
import { isoTime, parseOptions, UsageError } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { existsSync } from 'node:fs';

export async function exportCommand(args: string[]): Promise<number> {
  const o = parseOptions(args, {
    format: { type: 'string' },
    package: { type: 'string' },
    type: { type: 'string' },
    user: { type: 'string' },
    from: { type: 'string' },
    to: { type: 'string' },
    out: { type: 'string' },
    archive: { type: 'string' },
    config: { type: 'string' },
  });
  if (o.format === undefined) throw new UsageError('--format is required: json, ndjson or csv');
  if (!isExportFormat(o.format))
    throw new UsageError(`--format must be json, ndjson or csv, got "${o.format}"`);
  if (o.type !== undefined && !isAuditEventType(o.type)) {
    throw new UsageError(`--type must be one of ${AUDIT_EVENT_TYPES.join(', ')}, got "${o.type}"`);
  }
  const from = isoTime('from', o.from);
  const to = isoTime('to', o.to);
  if (from !== undefined && to !== undefined && from >= to)
    throw new UsageError('--from must be before --to');
  const settings = cliSettings(effectiveEnv(o.config));
  const fromS3 = settings.archiveStore === 's3' && o.archive === undefined;
  const archiveDir = o.archive ?? settings.archiveDir;
  if (!fromS3 && !existsSync(archiveDir))
    throw new UsageError(`archive folder ${archiveDir} does not exist (see --archive)`);
  const records = filterRecords(
    readArchive(archiveStore(settings, o.archive), { prefix: settings.prefix }),
    {
      packageName: o.package,
      eventType: o.type,
      user: o.user,
      from,
      to,
    },
  );
  if (o.out === undefined) await writeExport(o.format, records, process.stdout);
  else await exportToFile(o.out, o.format, records);
  return 0;
}
