/**
 * Access records in the trail: every export, whatever its channel, adds the
 * record of who read the audit data (consumers/exporter/access-record.ts) to
 * the pipeline like any other event, through the configured transport (the
 * local spool, or Kafka behind it), and waits until it is durable. An export
 * whose access cannot be recorded must not pass silently.
 */
import { userInfo } from 'node:os';
import type { Logger } from 'pino';
import { AuditError, AuditErrorCode, isAuditError } from '../common/errors.js';
import { accessRecord, type AccessInfo } from '../consumers/exporter/access-record.js';
import type { ExportCounts, VerificationSummary } from '../consumers/exporter/export-events.js';
import type { EventFilter } from '../consumers/exporter/filter.js';
import { AuditEvent } from '../producer/audit-event.js';
import type { AuditTrail } from '../producer/audit-trail.js';
import type { ExportFormat } from '../schemas/render.js';
import type { CliSettings } from './config.js';
import { openTrail } from './trail.js';

/** How long a recording waits for room in a full spool, and for Kafka to acknowledge. */
export const ACCESS_RECORD_TIMEOUT_MS = 30_000;

/**
 * Adds the access record of `info` to `trail` and waits until it is durable
 * (written to the spool; with Kafka also acknowledged). For the channels that
 * hold a trail of their own (the HTTP service, the exporter group): call it
 * from their onAccess / onExported hook. Rejects with the AuditError that kept
 * the record from being durable; the caller reports it as a failure of the export.
 */
export async function recordAccess(
  trail: AuditTrail,
  info: AccessInfo,
  options: { timeoutMs?: number } = {},
): Promise<AuditEvent> {
  const timeoutMs = options.timeoutMs ?? ACCESS_RECORD_TIMEOUT_MS;
  const event = AuditEvent.fromRecord(accessRecord(info));
  await trail.addEventWhenRoom(event, { timeoutMs });
  await trail.flush({ timeoutMs });
  return event;
}

/** The user of this process, for the access records of the command line. */
export function cliUser(): string {
  try {
    return userInfo().username;
  } catch {
    // no entry in the user database (a container with an arbitrary uid)
    return process.env['USER'] ?? process.env['LOGNAME'] ?? `uid ${process.getuid?.() ?? '?'}`;
  }
}

/** What an export run tells its access record; set as soon as known, so a failure records how far it got. */
export interface ExportAccess {
  counts?: Readonly<Partial<ExportCounts>> | undefined;
  verification?: Readonly<VerificationSummary> | undefined;
}

/**
 * Runs the CLI's direct export and records the access: after the export, on
 * success and on failure, the access record goes through the configured trail
 * (opened only then, so that the export does not hold the spool). The export's
 * own output stays whatever happens to the record. When the record cannot be
 * made durable, the failure is written to stderr and the exit code is 1 (or
 * the export's own error is thrown, when it failed too).
 */
export async function recordedExport(
  settings: CliSettings,
  logger: Logger,
  request: { format: ExportFormat; filter: EventFilter },
  run: (access: ExportAccess) => Promise<void>,
): Promise<number> {
  const startedAt = new Date();
  const access: ExportAccess = {};
  const record = (error: unknown): Promise<boolean> =>
    recordCliAccess(settings, logger, {
      who: cliUser(),
      from: null,
      channel: 'cli',
      format: request.format,
      filter: request.filter,
      counts: access.counts,
      verification: access.verification,
      error,
      startedAt,
      endedAt: new Date(),
    });
  try {
    await run(access);
  } catch (error) {
    await record(error ?? new Error('the export failed'));
    throw error;
  }
  return (await record(undefined)) ? 0 : 1;
}

/** Records through a trail of its own; reports a failure on stderr and returns false. */
async function recordCliAccess(
  settings: CliSettings,
  logger: Logger,
  info: AccessInfo,
): Promise<boolean> {
  let trail: AuditTrail | undefined;
  try {
    trail = await openTrail(settings, logger);
    const event = await recordAccess(trail, info);
    await trail.close({ timeoutMs: ACCESS_RECORD_TIMEOUT_MS });
    logger.debug({ id: event.id }, 'access recorded');
    return true;
  } catch (caught) {
    const failure = isAuditError(caught)
      ? caught
      : new AuditError(AuditErrorCode.Io, (caught as Error)?.message ?? String(caught));
    const where =
      settings.transport === 'kafka'
        ? `Kafka (topic ${settings.topics.eventsTopic}; an unacknowledged record stays in the spool ${settings.spoolDir} for the next run)`
        : `the spool ${settings.spoolDir}`;
    process.stderr.write(
      `audit-trail: ${failure.code}: the access to the audit data could not be recorded in ${where}: ${failure.message}\n`,
    );
    await trail?.close({ timeoutMs: 1 }).catch(() => undefined);
    return false;
  }
}
