/**
 * Export requests and their results (pure): the JSON on `audit.export.requests`
 * and `audit.export.results`, and the keys of an export in the object store.
 *
 *   <exports prefix>/<request id>/part-00000.<ext>   the rendered export, in parts
 *   <exports prefix>/<request id>/result.json        the outcome; written last, once
 *
 * A result exists once `result.json` does: parts without it are invisible.
 */
import { ValidationError, AuditErrorCode } from '../../common/errors.js';
import { EXPORT_FORMATS, isExportFormat, type ExportFormat } from '../../schemas/render.js';
import type { ExportCounts, VerificationSummary } from './export-events.js';

export interface ExportRequest {
  /** UUID; names the export's folder and its result. */
  id: string;
  format: ExportFormat;
  /** Filter parameters as filter.ts names them (`package`, `type`, `from`, ...). */
  filters: Record<string, string | string[]>;
  /** Who asked: the token's name, the user of the CLI. */
  requested_by: string;
  /** Where from: an IP address or a host name; null when unknown. */
  requested_from: string | null;
  /** ISO-8601 UTC. */
  submitted_at: string;
}

export interface ExportPart {
  key: string;
  sha256: string;
  bytes: number;
}

export interface ExportResult {
  id: string;
  status: 'done' | 'failed';
  format: ExportFormat | null;
  /** In order; the export is their concatenation. Empty when failed. */
  parts: ExportPart[];
  events: number;
  counts: ExportCounts | null;
  verification: VerificationSummary | null;
  /** Why it failed: a typed error code and a message naming the problem. */
  error: { code: string; message: string; field: string | null } | null;
  requested_by: string | null;
  /** ISO-8601 UTC. */
  completed_at: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const isExportId = (value: unknown): value is string =>
  typeof value === 'string' && UUID.test(value);

export const FORMAT_EXTENSION: Record<ExportFormat, string> = {
  json: 'json',
  ndjson: 'ndjson',
  csv: 'csv',
};

export const FORMAT_CONTENT_TYPE: Record<ExportFormat, string> = {
  json: 'application/json; charset=utf-8',
  ndjson: 'application/x-ndjson; charset=utf-8',
  csv: 'text/csv; charset=utf-8; header=present',
};

export const exportResultKey = (exportsPrefix: string, id: string): string =>
  `${exportsPrefix}/${id}/result.json`;

export const exportPartKey = (
  exportsPrefix: string,
  id: string,
  index: number,
  format: ExportFormat,
): string =>
  `${exportsPrefix}/${id}/part-${String(index).padStart(5, '0')}.${FORMAT_EXTENSION[format]}`;

const invalid = (field: string, message: string): ValidationError =>
  new ValidationError(AuditErrorCode.InvalidField, field, message);

/**
 * The request in `bytes`. A request that is not JSON or lacks an id cannot
 * be answered and is refused with the field named; `requestId` then says
 * whether an id could be read (so that a failed result can still name it).
 * The filters are checked later, by parseFilter, so that a bad filter gets a
 * failed result naming the parameter.
 */
export function parseExportRequest(bytes: Buffer): ExportRequest {
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (error) {
    throw invalid('request', `is not JSON: ${(error as Error).message}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw invalid('request', 'must be a JSON object');
  const r = value as Record<string, unknown>;
  if (!isExportId(r['id'])) throw invalid('id', 'must be a UUID in lower case');
  if (!isExportFormat(r['format']))
    throw invalid('format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
  const filters = r['filters'] ?? {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters))
    throw invalid('filters', 'must be a JSON object of filter parameters');
  for (const [name, v] of Object.entries(filters)) {
    if (typeof v !== 'string' && !(Array.isArray(v) && v.every((item) => typeof item === 'string')))
      throw invalid(`filters.${name}`, 'must be a string or an array of strings');
  }
  if (typeof r['requested_by'] !== 'string' || r['requested_by'].length === 0)
    throw invalid('requested_by', 'must name who asked');
  const from = r['requested_from'] ?? null;
  if (from !== null && typeof from !== 'string')
    throw invalid('requested_from', 'must be a string or null');
  if (typeof r['submitted_at'] !== 'string' || Number.isNaN(Date.parse(r['submitted_at'])))
    throw invalid('submitted_at', 'must be an ISO-8601 time');
  return {
    id: r['id'],
    format: r['format'],
    filters: filters as Record<string, string | string[]>,
    requested_by: r['requested_by'],
    requested_from: from,
    submitted_at: r['submitted_at'],
  };
}

/** The id in a request's bytes when one can be read, for the result of a refused request. */
export function requestIdOf(bytes: Buffer): string | undefined {
  try {
    const value = JSON.parse(bytes.toString('utf8')) as { id?: unknown };
    return isExportId(value.id) ? value.id : undefined;
  } catch {
    // not JSON: no id to answer to
    return undefined;
  }
}
