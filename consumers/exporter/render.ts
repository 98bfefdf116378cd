/**
 * Renderers of audit event records (pure). Every export uses the schema's
 * snake_case field names in schema order and ISO-8601 UTC timestamps.
 *
 * CSV: RFC 4180 (CRLF, quoting by csv-stringify), a header row, `details` as a
 * JSON object in one cell, and cells that start with `=`, `+`, `-`, `@`, tab or
 * carriage return prefixed with `'` so that spreadsheets do not run them as
 * formulas (OWASP, CSV injection).
 */
import { stringify, type Stringifier } from 'csv-stringify';
import { EVENT_FIELDS, type AuditEventRecord } from '../../schemas/event-record.js';

export const EXPORT_FORMATS = ['json', 'ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export function isExportFormat(value: unknown): value is ExportFormat {
  return typeof value === 'string' && (EXPORT_FORMATS as readonly string[]).includes(value);
}

/** The JSON object of one event: field order of the schema, timestamp as ISO-8601 UTC. */
export function toExportObject(record: AuditEventRecord): Record<string, unknown> {
  return {
    id: record.id,
    timestamp: new Date(record.timestamp).toISOString(),
    event_type: record.event_type,
    package_name: record.package_name,
    package_version: record.package_version,
    user: record.user,
    ip_address: record.ip_address,
    details: record.details,
    success: record.success,
    error_message: record.error_message,
    source: record.source,
  };
}

/** One CSV row (before quoting), aligned with EVENT_FIELDS. Absent values are empty cells. */
export function toCsvRow(record: AuditEventRecord): string[] {
  return [
    record.id,
    new Date(record.timestamp).toISOString(),
    record.event_type,
    record.package_name ?? '',
    record.package_version ?? '',
    record.user ?? '',
    record.ip_address ?? '',
    JSON.stringify(record.details),
    record.success ? 'true' : 'false',
    record.error_message ?? '',
    record.source ?? '',
  ];
}

export function csvStringifier(): Stringifier {
  return stringify({
    header: true,
    columns: [...EVENT_FIELDS],
    record_delimiter: 'windows',
    escape_formulas: true,
  });
}

/** Text chunks of a JSON array of the records, one element at a time. */
export async function* renderJsonArray(
  records: AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>,
): AsyncGenerator<string> {
  let first = true;
  yield '[';
  for await (const record of records) {
    yield (first ? '\n' : ',\n') + JSON.stringify(toExportObject(record));
    first = false;
  }
  yield first ? ']\n' : '\n]\n';
}

export async function* renderNdjson(
  records: AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>,
): AsyncGenerator<string> {
  for await (const record of records) yield JSON.stringify(toExportObject(record)) + '\n';
}
