import type { Logger } from 'pino';
import { existsSync } from 'node:fs';
import { archiveStore } from '../store.js';
import {
  exportEvents,
  type ExportRun,
  type VerificationSummary,
} from '../../consumers/exporter/export-events.js';
import {
  FILTER_PARAMS,
  FilterError,
  parseFilter,
  type EventFilter,
} from '../../consumers/exporter/filter.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { isExportFormat, type ExportFormat } from '../../schemas/render.js';
import { exportToFile, writeExport } from '../../schemas/write-export.js';
import { parseOptions, UsageError } from '../args.js';
import { cliSettings, effectiveEnv } from '../config.js';
import { recordedExport } from '../access.js';
import { verifyKey } from '../keys.js';
import { ProgressBar } from '../progress.js';
import { expectedPartitions } from '../verification.js';
import { exportSubmit } from './export-submit.js';
import { EXPORT_COMMAND } from '../command-specs.js';

/** The filter the options give; a bad one is a usage error naming the option. */
function filterOf(o: Record<string, string | boolean | string[] | undefined>): EventFilter {
  const params: Record<string, string | string[] | undefined> = {};
  for (const name of Object.keys(FILTER_PARAMS)) {
    const value = o[name];
    if (typeof value === 'string' || Array.isArray(value)) params[name] = value;
  }
  try {
    return parseFilter(params);
  } catch (error) {
    if (!(error instanceof FilterError)) throw error;
    const field = error.field ?? '';
    throw new UsageError(`--${field} ${error.message.slice(field.length + 2)}`);
  }
}

function verificationText(v: VerificationSummary): string {
  if (!v.configured) return 'not verified (no AUDIT_VERIFY_KEY_FILE)';
  if (v.failed.length > 0)
    return `verification failed: ${v.failed.map((f) => `${f.key} (${f.detail})`).join('; ')}`;
  const pending =
    v.pending.length === 0
      ? ''
      : `, ${v.pending.length} pending (after the newest digest, within the grace period)`;
  return `verified OK (${v.verified} objects${pending})`;
}

/** The line printed after every export, refused or not. */
export function summaryLine(run: Pick<ExportRun, 'counts' | 'verification'>): string {
  const c = run.counts;
  return `audit-trail: export: objects listed ${c.objectsListed}, selected ${c.objectsSelected}, skipped ${c.objectsSkipped}, read ${c.objectsRead}; events ${c.eventsMatched}; ${verificationText(run.verification)}\n`;
}

/**
 * Writes the export to stdout. A reader that closes the pipe early (`| head`)
 * ends the export quietly, as it would end any other command line tool: what
 * was read so far is what its access record counts.
 */
async function toStdout(
  format: ExportFormat,
  records: AsyncIterable<AuditEventRecord>,
): Promise<void> {
  try {
    await writeExport(format, records, process.stdout);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
  }
}

export async function exportCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, EXPORT_COMMAND.options);
  if (o.submit === true || o.wait === true) return exportSubmit(o, logger);
  if (o.format === undefined) throw new UsageError('--format is required: json, ndjson or csv');
  if (!isExportFormat(o.format))
    throw new UsageError(`--format must be json, ndjson or csv, got "${o.format}"`);
  const filter = filterOf(o);
  const settings = cliSettings(effectiveEnv(o.config));
  const requireVerified = o['require-verified'] === true;
  if (requireVerified && settings.verifyKeyFile === undefined)
    throw new UsageError(
      '--require-verified needs AUDIT_VERIFY_KEY_FILE (the key the digests are checked with)',
    );
  const format = o.format;
  let failed = false;
  const recorded = await recordedExport(settings, logger, { format, filter }, async (access) => {
    const fromS3 = settings.archiveStore === 's3' && o.archive === undefined;
    const archiveDir = o.archive ?? settings.archiveDir;
    if (!fromS3 && !existsSync(archiveDir))
      throw new UsageError(`archive folder ${archiveDir} does not exist (see --archive)`);
    const store = archiveStore(settings, o.archive);
    const verifying = settings.verifyKeyFile !== undefined;
    const progress = new ProgressBar(process.stderr);
    const run = exportEvents(store, {
      prefix: settings.prefix,
      filter,
      verifyKey: verifying ? verifyKey(settings) : undefined,
      requireVerified,
      graceMs: settings.verifyGraceMs,
      expected: verifying ? await expectedPartitions(settings, logger) : undefined,
      onProgress: (counts) => progress.update(counts),
    });
    access.counts = run.counts;
    access.verification = run.verification;
    try {
      if (o.out === undefined) await toStdout(format, run.records);
      else await exportToFile(o.out, format, run.records);
    } finally {
      progress.finish(run.counts);
      process.stderr.write(summaryLine(run));
    }
    failed = run.verification.failed.length > 0;
  });
  return failed ? 1 : recorded;
}
