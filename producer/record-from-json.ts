/**
 * Reads an event written in the export shape (snake_case names, ISO-8601
 * timestamp) back into a validated record (pure). `id` and `timestamp` are
 * generated when absent; `success` defaults to true. Unknown fields are refused,
 * so that a misspelt name is not silently lost.
 */
import { v7 as uuidv7 } from 'uuid';
import { AuditErrorCode, ValidationError } from '../common/errors.js';
import { EVENT_FIELDS, type AuditEventRecord } from '../schemas/event-record.js';
import { validateRecord } from './validate.js';

const KNOWN = new Set<string>(EVENT_FIELDS);

function optionalString(value: unknown): string | null {
  return value === undefined || value === null ? null : (value as string);
}

function timestampOf(value: unknown, now: number): number {
  if (value === undefined || value === null) return now;
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(value)) {
    const time = Date.parse(value);
    if (!Number.isNaN(time)) return time;
  }
  throw new ValidationError(
    AuditErrorCode.InvalidField,
    'timestamp',
    `${JSON.stringify(value)} is not an ISO-8601 time`,
  );
}

export function recordFromJson(value: unknown, now: number = Date.now()): AuditEventRecord {
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
  return validateRecord({
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
  });
}
