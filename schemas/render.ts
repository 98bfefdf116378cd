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
import { stringify, type Options as CsvOptions, type Stringifier } from 'csv-stringify';
import { stringify as stringifyRows } from 'csv-stringify/sync';
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

/** True when the cell starts with an ASCII letter or digit: FORMULA_START cannot match it. */
function startsPlain(cell: string): boolean {
  const c = cell.charCodeAt(0);
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
}

/** The cell as a spreadsheet shows it but never runs it: `'` before a cell that could start a formula. */
export function neutraliseFormula(cell: string): string {
  return cell.length === 0 || startsPlain(cell) || !FORMULA_START.test(cell) ? cell : `'${cell}`;
}

/** One CSV row (before quoting), aligned with EVENT_FIELDS, formulas neutralised. Absent values are empty cells. */
export function toCsvRow(record: AuditEventRecord): string[] {
  const cells = plainCsvCells(record);
  for (let i = 0; i < cells.length; i++) cells[i] = neutraliseFormula(cells[i] as string);
  return cells;
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

const CSV_OPTIONS = {
  columns: [...EVENT_FIELDS],
  record_delimiter: 'windows',
  // 'windows' turns off quoting of cells with line breaks; a bare CR or LF would split the row
  quoted_match: /[\r\n]/,
} as const satisfies CsvOptions;

/** The one-row reference writer: csv-stringify with the export's options. */
export function csvStringifier(): Stringifier {
  return stringify({ ...CSV_OPTIONS, header: true });
}

const jsonText = (record: AuditEventRecord): string => JSON.stringify(toExportObject(record));

/** The elements of a JSON array for consecutive records, `first` when they begin it. */
function jsonElements(records: readonly AuditEventRecord[], first: boolean): string {
  let text = '';
  for (const record of records) {
    text += (first ? '\n' : ',\n') + jsonText(record);
    first = false;
  }
  return text;
}

/** NDJSON lines of consecutive records. */
function ndjsonLines(records: readonly AuditEventRecord[]): string {
  let text = '';
  for (const record of records) text += `${jsonText(record)}\n`;
  return text;
}

/**
 * The text of an export format around and between its rows: `start`, then
 * `rows` of consecutive records (`first` when they begin the export), then
 * `end` (`empty` when there was no row). Any cut of the records into runs
 * gives the same bytes.
 */
export interface ExportText {
  start: string;
  rows: (records: readonly AuditEventRecord[], first: boolean) => string;
  end: (empty: boolean) => string;
}

export const EXPORT_TEXT: Readonly<Record<ExportFormat, ExportText>> = {
  // csv-stringify writes the header and the rows: the bytes csvStringifier writes for them
  csv: {
    start: stringifyRows([], { ...CSV_OPTIONS, header: true }),
    rows: (records) => stringifyRows(records.map(toCsvRow), CSV_OPTIONS),
    end: () => '',
  },
  json: {
    start: '[',
    rows: jsonElements,
    end: (empty) => (empty ? ']\n' : '\n]\n'),
  },
  ndjson: { start: '', rows: ndjsonLines, end: () => '' },
};

/** Text chunks of a JSON array of the records, one element at a time. */
export async function* renderJsonArray(
  records: AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>,
): AsyncGenerator<string> {
  const { start, rows, end } = EXPORT_TEXT.json;
  let first = true;
  yield start;
  for await (const record of records) {
    yield rows([record], first);
    first = false;
  }
  yield end(first);
}

export async function* renderNdjson(
  records: AsyncIterable<AuditEventRecord> | Iterable<AuditEventRecord>,
): AsyncGenerator<string> {
  for await (const record of records) yield EXPORT_TEXT.ndjson.rows([record], false);
}
