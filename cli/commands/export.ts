import { archiveStore } from '../store.js';
import { readArchive } from '../../consumers/exporter/archive-reader.js';
import { filterRecords } from '../../consumers/exporter/filter.js';
import { isExportFormat } from '../../schemas/render.js';
import { exportToFile, writeExport } from '../../schemas/write-export.js';
import { AUDIT_EVENT_TYPES, isAuditEventType } from '../../schemas/event-type.js';
import { isoTime, parseOptions, UsageError, CONFIG_OPTION, type CommandSpec } from '../args.js';
import { cliSettings, effectiveEnv, type CliSettings } from '../config.js';
import type { Logger } from 'pino';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { verifyArchive } from '../../consumers/archiver/verify.js';
import type { ObjectStore } from '../../consumers/object-store/object-store.js';
import { verifyKey } from '../keys.js';
import { expectedPartitions } from '../verification.js';
import { existsSync } from 'node:fs';
import { exportSubmit } from './export-submit.js';

/**
 * With a verify key configured, the archive is verified first, as `verify`
 * would, and the export refuses (VERIFY_FAILED, naming the first problem) to
 * read from an archive that does not verify; objects pending within the grace
 * period are exported with a warning. Without a verify key nothing is checked.
 */
async function verifiedKeys(
  settings: CliSettings,
  store: ObjectStore,
  logger: Logger,
): Promise<{ keys: Set<string>; expected: string[] } | undefined> {
  if (settings.verifyKeyFile === undefined) return undefined;
  const expected = await expectedPartitions(settings, logger);
  const report = await verifyArchive(store, {
    prefix: settings.prefix,
    publicKey: verifyKey(settings),
    expected,
    graceMs: settings.verifyGraceMs,
  });
  const first = report.problems[0];
  if (first !== undefined) {
    throw new AuditError(
      AuditErrorCode.VerifyFailed,
      `the archive does not verify (${report.problems.length} problems; first: ${first.kind} ${first.key}: ${first.detail}); run audit-trail verify`,
    );
  }
  for (const key of report.pending)
    process.stderr.write(`audit-trail: warning: ${key} is newer than the last digest (pending)\n`);
  return { keys: new Set(report.accepted), expected };
}

export const EXPORT_COMMAND = {
  name: 'export',
  summary: 'render archived events as JSON, NDJSON or CSV',
  description: `Reads the archive store (AUDIT_ARCHIVE_STORE: the local folder or S3; --archive DIR
reads a local folder) and renders the events that match every filter given. With
AUDIT_VERIFY_KEY_FILE set, the archive is verified first and an archive that does not verify
is refused. Writes to stdout unless --out is given (a file is replaced atomically).`,
  options: {
    format: {
      type: 'string',
      value: 'F',
      required: true,
      doc: 'json (one array), ndjson (one object per line) or csv',
    },
    package: { type: 'string', value: 'NAME', doc: 'only events of this package' },
    type: {
      type: 'string',
      value: 'TYPE',
      doc: `only events of this type (${AUDIT_EVENT_TYPES.join(', ')})`,
    },
    user: { type: 'string', value: 'U', doc: 'only events of this user' },
    from: {
      type: 'string',
      value: 'ISO',
      doc: 'only events at or after this time (ISO-8601, e.g. 2026-01-31T00:00:00Z)',
    },
    to: { type: 'string', value: 'ISO', doc: 'only events before this time' },
    out: { type: 'string', value: 'FILE', doc: 'write to FILE instead of stdout' },
    archive: {
      type: 'string',
      value: 'DIR',
      doc: 'read this local folder, whatever the archive store (default $AUDIT_ARCHIVE_DIR or ./audit-data/archive)',
    },
    submit: { type: 'boolean', doc: 'ask the exporter group (kafka) instead; prints the id' },
    wait: { type: 'boolean', doc: 'with --submit: wait for the result and print it' },
    config: CONFIG_OPTION,
  },
} as const satisfies CommandSpec;

export async function exportCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, EXPORT_COMMAND.options);
  if (o.submit === true || o.wait === true) return exportSubmit(o, logger);
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
  const store = archiveStore(settings, o.archive);
  const verified = await verifiedKeys(settings, store, logger);
  const records = filterRecords(
    readArchive(store, {
      prefix: settings.prefix,
      keys: verified?.keys,
      expected: verified?.expected,
    }),
    {
      packageName: o.package,
      eventTypes: o.type === undefined ? undefined : [o.type],
      user: o.user,
      from,
      to,
    },
  );
  if (o.out === undefined) await writeExport(o.format, records, process.stdout);
  else await exportToFile(o.out, o.format, records);
  return 0;
}
