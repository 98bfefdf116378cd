/**
 * Renderers of audit event records (pure). Every export uses the schema's
 * snake_case field names in schema order and ISO-8601 UTC timestamps.
 *
 * CSV: RFC 4180 (CRLF, quoting by csv-stringify), a header row, `details` as a
 * JSON object in one cell. Every cell holding a line break (CR or LF) is quoted,
 * so that no value can split a row. A cell is prefixed with `'` so that
 * spreadsheets do not run it as a formula (OWASP, CSV injection) when it starts
 * with tab, CR or LF, or when its first character that is not whitespace or a
 * control character is `=`, `+`, `-` or `@` (`" =cmd"`, `"\n=1+1"`).
 */
import { stringify, type Stringifier } from 'csv-stringify';
import { EVENT_FIELDS, type AuditEventRecord } from './event-record.js';

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

/** A formula sign after optional whitespace or control characters, or a leading tab, CR or LF. */
const FORMULA_START = /^[\s\u0000-\u001f]*[=+\-@]|^[\t\r\n]/u;

/** The cell as a spreadsheet shows it but never runs it: `'` before a cell that could start a formula. */
export function neutraliseFormula(cell: string): string {
  return FORMULA_START.test(cell) ? `'${cell}` : cell;
}

/** One CSV row (before quoting), aligned with EVENT_FIELDS, formulas neutralised. Absent values are empty cells. */
export function toCsvRow(record: AuditEventRecord): string[] {
  return plainCsvCells(record).map(neutraliseFormula);
}

function plainCsvCells(record: AuditEventRecord): string[] {
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
    // 'windows' turns off quoting of cells with line breaks; a bare CR or LF would split the row
    quoted_match: /[\r\n]/,
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
