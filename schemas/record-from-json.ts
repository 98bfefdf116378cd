/**
 * Reads an event written in the export shape (snake_case names, ISO-8601
 * timestamp) back into a validated record (pure). `id` and `timestamp` are
 * generated when absent; `success` defaults to true. Unknown fields are refused,
 * so that a misspelt name is not silently lost.
 */
import { v7 as uuidv7 } from 'uuid';
import { AuditErrorCode, ValidationError } from '../common/errors.js';
import { EVENT_FIELDS, type AuditEventRecord } from './event-record.js';
import { validateRecord } from './validate.js';

const KNOWN = new Set<string>(EVENT_FIELDS);

function optionalString(value: unknown): string | null {
  return value === undefined || value === null ? null : (value as string);
}

/**
 * ISO-8601 / RFC 3339 date-time with a zone: `YYYY-MM-DDTHH:MM[:SS[.fff]](Z|±HH:MM)`.
 * At most milliseconds: finer digits could not be kept.
 */
const ISO_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;

/** Milliseconds of an ISO-8601 time, or undefined when any part is out of range (2024-02-30, 24:00). */
export function parseIsoTime(text: string): number | undefined {
  const m = ISO_TIME.exec(text);
  if (m === null) return undefined;
  const [year, month, day, hour, minute, second, offsetHours, offsetMinutes] = [
    m[1],
    m[2],
    m[3],
    m[4],
    m[5],
    m[6] ?? '0',
    m[10] ?? '0',
    m[11] ?? '0',
  ].map(Number) as [number, number, number, number, number, number, number, number];
  const millis = Number((m[7] ?? '0').padEnd(3, '0'));
  if (hour > 23 || minute > 59 || second > 59 || offsetHours > 23 || offsetMinutes > 59)
    return undefined;
  const local = new Date(Date.UTC(year, month - 1, day, hour, minute, second, millis));
  // the calendar date must survive: Date.UTC rolls 2024-02-30 over to March 1st
  if (
    local.getUTCFullYear() !== year ||
    local.getUTCMonth() !== month - 1 ||
    local.getUTCDate() !== day
  )
    return undefined;
  const sign = m[9] === '-' ? -1 : 1;
  return local.getTime() - sign * (offsetHours * 60 + offsetMinutes) * 60_000;
}

function timestampOf(value: unknown, now: number): number {
  if (value === undefined || value === null) return now;
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    const time = parseIsoTime(value);
    if (time !== undefined) return time;
  }
  throw new ValidationError(
    AuditErrorCode.InvalidField,
    'timestamp',
    `${JSON.stringify(value)} is not an ISO-8601 time with a zone (YYYY-MM-DDTHH:MM:SS[.mmm]Z or ±HH:MM) naming a real date`,
  );
}

export function recordFromJson(value: unknown, now: number = Date.now()): AuditEventRecord {
  return validateRecord(recordShapeFromJson(value, now));
}

/**
 * The record of a JSON event as `recordFromJson` builds it (unknown fields
 * and the timestamp checked), without validating the fields: for a caller that
 * validates the record itself, once (AuditTrail.addRecord).
 */
export function recordShapeFromJson(value: unknown, now: number = Date.now()): AuditEventRecord {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ValidationError(AuditErrorCode.InvalidField, 'event', 'must be a JSON object');
  }
  const input = value as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KNOWN.has(key))
      throw new ValidationError(
        AuditErrorCode.InvalidField,
        key,
        'is not a field of an audit event',
      );
  }
  return {
    id: input['id'] === undefined ? uuidv7() : (input['id'] as string),
    timestamp: timestampOf(input['timestamp'], now),
    event_type: input['event_type'] as string,
    package_name: optionalString(input['package_name']),
    package_version: optionalString(input['package_version']),
    user: optionalString(input['user']),
    ip_address: optionalString(input['ip_address']),
    details: (input['details'] ?? {}) as Record<string, string>,
    success: input['success'] === undefined ? true : (input['success'] as boolean),
    error_message: optionalString(input['error_message']),
    source: optionalString(input['source']),
  };
}
