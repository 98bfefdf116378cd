/**
 * The access record of an export (pure): the audit event that says who read
 * the audit data, from where, through which channel, with which filters, what
 * came out and whether the archive verified (PCI DSS 10.2.1.3).
 *
 * Why it is an `IntegrityCheck` with reserved `details` keys and not a type of
 * its own: readers that hold schema version 1 (SIEMs on the topic, Apache Avro
 * with schemas/audit-event.avsc) fail on an enum symbol they do not know, and
 * v1's `event_type` enum has no default, so the seven symbols are closed. Every
 * export checks the integrity of what it reads, and a refused export is an
 * integrity failure, so `IntegrityCheck` is the type it is; `details.audit_access`
 * marks it as an access record. The rule that follows is in docs/access-records.md:
 * new kinds of records are existing types with reserved `details` keys; a new
 * symbol needs a new schema version with an enum default, on a new topic.
 */
import { createHash } from 'node:crypto';
import { isIP } from 'node:net';
import { v7 as uuidv7 } from 'uuid';
import { AuditErrorCode, isAuditError } from '../../common/errors.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { AuditEventType } from '../../schemas/event-type.js';
import { LIMITS } from '../../schemas/limits.js';
import type { ExportFormat } from '../../schemas/render.js';
import type { ExportCounts, VerificationSummary } from './export-events.js';
import { filterParams, type EventFilter } from './filter.js';

/** The event type of every access record. */
export const ACCESS_RECORD_TYPE = AuditEventType.IntegrityCheck;

/**
 * The reserved `details` keys: `audit_access` marks the record and names the
 * kind of access; the others start with `audit_access.`.
 */
export const ACCESS_DETAILS = {
  kind: 'audit_access',
  channel: 'audit_access.channel',
  format: 'audit_access.format',
  filters: 'audit_access.filters',
  filtersSha256: 'audit_access.filters_sha256',
  from: 'audit_access.from',
  requestId: 'audit_access.request_id',
  events: 'audit_access.events',
  objectsListed: 'audit_access.objects_listed',
  objectsSelected: 'audit_access.objects_selected',
  objectsSkipped: 'audit_access.objects_skipped',
  objectsRead: 'audit_access.objects_read',
  verification: 'audit_access.verification',
  objectsVerified: 'audit_access.objects_verified',
  objectsPending: 'audit_access.objects_pending',
  objectsFailed: 'audit_access.objects_failed',
  firstFailure: 'audit_access.first_failure',
  errorCode: 'audit_access.error_code',
  durationMs: 'audit_access.duration_ms',
} as const;

/** What was done with the audit data. */
export type AccessKind = 'export';

/** The way the export was asked for: the command line, the HTTP service, an export request on Kafka. */
export const ACCESS_CHANNELS = ['cli', 'http', 'request'] as const;
export type AccessChannel = (typeof ACCESS_CHANNELS)[number];

/** The state of the verification of what was read. */
export type AccessVerification = 'not-configured' | 'verified' | 'pending' | 'failed';

export interface AccessInfo {
  /** @defaultValue 'export' */
  kind?: AccessKind | undefined;
  /** Who read: the user of the CLI, the token's name, the request's `requested_by`. */
  who: string;
  /** Where from: an IP address (into `ip_address`) or a host name (into details); null when unknown. */
  from?: string | null | undefined;
  channel: AccessChannel;
  /** The host or service that served the export; the trail's own `source` when absent. */
  source?: string | null | undefined;
  format?: ExportFormat | null | undefined;
  filter: EventFilter;
  requestId?: string | null | undefined;
  /** The counts of the run, final or as far as it got; a count not given is not recorded. */
  counts?: Readonly<Partial<ExportCounts>> | null | undefined;
  verification?: Readonly<VerificationSummary> | null | undefined;
  /** Why the export failed; absent or undefined when it succeeded. */
  error?: unknown;
  /** When the export started: the record's timestamp. */
  startedAt: Date;
  /** When it ended. @defaultValue startedAt */
  endedAt?: Date | undefined;
  /** @defaultValue a new UUID v7 */
  id?: string | undefined;
}

/** Request ids are UUIDs; a longer one is cut here. */
const MAX_REQUEST_ID = 128;
/** A first verification failure, as far as it helps a reader (the export's result has it whole). */
const MAX_FAILURE = 1024;

const UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f]|[\ud800-\udfff]/gu;
const UNSAFE_SINGLE_LINE = /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udfff]/gu;

/**
 * `value` as the validator accepts it, whatever the channel handed over: control
 * characters and lone surrogates written as `\uXXXX`, cut to `max` without
 * splitting a surrogate pair (ending with `…` when cut). An access must be
 * recordable whatever an asker put in a name or a filter, or an odd value would
 * be a way to read without a record.
 */
export function fitText(value: string, max: number, multiline = false): string {
  const escaped = value.replace(multiline ? UNSAFE : UNSAFE_SINGLE_LINE, (c) => {
    // a well-formed pair matches as one code point and is kept as it is
    if (c.length === 2) return c;
    return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
  const text = escaped.trim().length === 0 ? '(blank)' : escaped;
  if (text.length <= max) return text;
  let end = max - 1;
  const last = text.charCodeAt(end - 1);
  if (last >= 0xd800 && last <= 0xdbff) end--;
  return `${text.slice(0, end)}…`;
}

function verificationState(v: Readonly<VerificationSummary>): AccessVerification {
  if (!v.configured) return 'not-configured';
  if (v.failed.length > 0) return 'failed';
  if (v.pending.length > 0) return 'pending';
  return 'verified';
}

/** `CODE: message` of an AuditError, the message of another error. */
function describeError(error: unknown): { code: string | null; message: string } {
  if (isAuditError(error)) return { code: error.code, message: `${error.code}: ${error.message}` };
  if (error instanceof Error) return { code: null, message: error.message || error.name };
  return { code: null, message: String(error) };
}

/**
 * The access record of one export, as a record that passes validateRecord:
 * `user` = who, `ip_address` = from where when it is an IP address,
 * `package_name` null (an access record is about the trail, not a package, and
 * keeps out of exports by package), `success` and `error_message` = the outcome,
 * `details` = what was asked and what came out (see ACCESS_DETAILS).
 */
export function accessRecord(info: AccessInfo): AuditEventRecord {
  const d = ACCESS_DETAILS;
  const details: Record<string, string> = {
    [d.kind]: info.kind ?? 'export',
    [d.channel]: info.channel,
  };
  if (info.format !== undefined && info.format !== null) details[d.format] = info.format;
  const filters = JSON.stringify(filterParams(info.filter));
  details[d.filters] = fitText(filters, LIMITS.detailValue, true);
  // filters that had to be cut or escaped: the hash of what was asked identifies them still
  if (details[d.filters] !== filters)
    details[d.filtersSha256] = createHash('sha256').update(filters).digest('hex');
  const from = info.from ?? null;
  const ipAddress = from !== null && isIP(from) !== 0 ? from : null;
  if (from !== null && ipAddress === null) details[d.from] = fitText(from, LIMITS.source);
  if (info.requestId !== undefined && info.requestId !== null)
    details[d.requestId] = fitText(info.requestId, MAX_REQUEST_ID);
  const counts = info.counts ?? null;
  if (counts !== null) {
    const put = (key: string, value: number | undefined): void => {
      if (value !== undefined) details[key] = String(value);
    };
    put(d.events, counts.eventsMatched);
    put(d.objectsListed, counts.objectsListed);
    put(d.objectsSelected, counts.objectsSelected);
    put(d.objectsSkipped, counts.objectsSkipped);
    put(d.objectsRead, counts.objectsRead);
  }
  const verification = info.verification ?? null;
  if (verification !== null) {
    details[d.verification] = verificationState(verification);
    if (verification.configured) {
      details[d.objectsVerified] = String(verification.verified);
      details[d.objectsPending] = String(verification.pending.length);
      details[d.objectsFailed] = String(verification.failed.length);
      const first = verification.failed[0];
      if (first !== undefined)
        details[d.firstFailure] = fitText(`${first.key}: ${first.detail}`, MAX_FAILURE, true);
    }
  }
  const endedAt = info.endedAt ?? info.startedAt;
  details[d.durationMs] = String(Math.max(0, endedAt.getTime() - info.startedAt.getTime()));
  const unverified = info.verification?.failed ?? [];
  // an export that read objects which did not verify failed its integrity check, even when it was not refused
  const failed = info.error !== undefined || unverified.length > 0;
  const error =
    info.error !== undefined
      ? describeError(info.error)
      : failed
        ? {
            code: AuditErrorCode.VerifyFailed,
            message: `${AuditErrorCode.VerifyFailed}: ${unverified.length} object(s) read did not verify; first: ${unverified[0]?.key ?? ''}`,
          }
        : null;
  if (error?.code !== null && error?.code !== undefined) details[d.errorCode] = error.code;
  return {
    id: info.id ?? uuidv7(),
    timestamp: info.startedAt.getTime(),
    event_type: ACCESS_RECORD_TYPE,
    package_name: null,
    package_version: null,
    user: fitText(info.who, LIMITS.user),
    ip_address: ipAddress,
    details,
    success: !failed,
    error_message: error === null ? null : fitText(error.message, LIMITS.errorMessage, true),
    source:
      info.source === undefined || info.source === null
        ? null
        : fitText(info.source, LIMITS.source),
  };
}

/** Whether `record` is an access record (an IntegrityCheck carrying the `audit_access` key). */
export function isAccessRecord(record: Pick<AuditEventRecord, 'event_type' | 'details'>): boolean {
  return record.event_type === ACCESS_RECORD_TYPE && Object.hasOwn(record.details, 'audit_access');
}
