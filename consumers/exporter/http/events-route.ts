/**
 * `GET /v1/events`: a direct export, streamed into the response as it is
 * read. The first event is read before the status is sent, so that a
 * selection refused at once (an archive that does not verify) gets a JSON
 * error; after that a failure destroys the connection before the last chunk,
 * which every HTTP client reports as an incomplete body. The verification
 * summary and the counts follow in trailers.
 */
import { AuditErrorCode } from '../../../common/errors.js';
import { EXPORT_FORMATS, isExportFormat, type ExportFormat } from '../../../schemas/render.js';
import { writeExport } from '../../../schemas/write-export.js';
import type { AuditEventRecord } from '../../../schemas/event-record.js';
import { recordBatches, type RecordBatches } from '../../../schemas/record-batches.js';
import { exportEvents, type ExportRun } from '../export-events.js';
import { FORMAT_CONTENT_TYPE, FORMAT_EXTENSION } from '../export-request.js';
import { FilterError, filterParams, parseFilter, type EventFilter } from '../filter.js';
import type { RouteContext } from './context.js';
import { badParameter, failureOf, HttpError, SAFE_HEADERS, sendError } from './responses.js';
import { ResponseSink } from './response-sink.js';
import { finishAccess } from './access.js';
import { headerJson, verificationTrailer } from './trailers.js';

export interface EventsQuery {
  format: ExportFormat;
  requireVerified: boolean;
  filter: EventFilter;
}

/** The parameters of the export besides the filters. */
export const EXPORT_QUERY_PARAMS = ['format', 'require_verified'] as const;

function only(params: Map<string, string[]>, name: string): string | undefined {
  const values = params.get(name);
  if (values === undefined) return undefined;
  if (values.length > 1) throw badParameter(name, 'may be given only once');
  return values[0];
}

/**
 * The query of `GET /v1/events` (pure): `format` (required), `require_verified`
 * (true by default when the service verifies; true without a verify key is
 * refused) and the filters of filter.ts. Anything else is refused, naming it.
 */
export function parseEventsQuery(search: URLSearchParams, verifying: boolean): EventsQuery {
  const params = new Map<string, string[]>();
  for (const [name, value] of search) params.set(name, [...(params.get(name) ?? []), value]);
  const format = only(params, 'format');
  if (format === undefined)
    throw badParameter('format', `is required: ${EXPORT_FORMATS.join(', ')}`);
  if (!isExportFormat(format))
    throw badParameter(
      'format',
      `must be one of ${EXPORT_FORMATS.join(', ')}, got ${JSON.stringify(format)}`,
    );
  const verified = only(params, 'require_verified');
  if (verified !== undefined && verified !== 'true' && verified !== 'false')
    throw badParameter(
      'require_verified',
      `must be true or false, got ${JSON.stringify(verified)}`,
    );
  if (verified === 'true' && !verifying)
    throw badParameter(
      'require_verified',
      'this service has no verify key (AUDIT_VERIFY_KEY_FILE): nothing can be verified',
    );
  const filters: Record<string, string | string[]> = {};
  for (const [name, values] of params) {
    if ((EXPORT_QUERY_PARAMS as readonly string[]).includes(name)) continue;
    filters[name] = values.length === 1 ? (values[0] as string) : values;
  }
  try {
    return {
      format,
      requireVerified: verified === undefined ? verifying : verified === 'true',
      filter: parseFilter(filters),
    };
  } catch (error) {
    if (error instanceof FilterError)
      throw new HttpError(400, error.code, error.message, error.field ?? null);
    throw error;
  }
}

export const exportFileName = (format: ExportFormat, at: Date): string =>
  `audit-export-${at
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}.${FORMAT_EXTENSION[format]}`;

/**
 * The records of `run`, with the first batch read already: a failure to begin
 * is thrown here, before anything is sent.
 */
async function primed(records: RecordBatches): Promise<RecordBatches> {
  const iterator = records.batches()[Symbol.asyncIterator]();
  const first = await iterator.next();
  async function* rest(): AsyncGenerator<readonly AuditEventRecord[]> {
    try {
      if (first.done === true) return;
      yield first.value;
      for (;;) {
        const next = await iterator.next();
        if (next.done === true) return;
        yield next.value;
      }
    } finally {
      await iterator.return?.();
    }
  }
  return recordBatches(rest);
}

export async function eventsRoute(ctx: RouteContext, claimSlot: () => () => void): Promise<void> {
  const { options, res, signal } = ctx;
  const query = parseEventsQuery(ctx.url.searchParams, options.verifyKey !== undefined);
  const release = claimSlot();
  const startedAt = new Date();
  let run: ExportRun | undefined;
  let error: unknown;
  try {
    run = (options.exportEvents ?? exportEvents)(options.store, {
      prefix: options.prefix,
      filter: query.filter,
      verifyKey: options.verifyKey,
      requireVerified: query.requireVerified,
      graceMs: options.graceMs,
      expected: options.expected,
      signal,
    });
    const records = await primed(run.records);
    const ended = run;
    res.writeHead(200, {
      ...SAFE_HEADERS,
      'Content-Type': FORMAT_CONTENT_TYPE[query.format],
      'Content-Disposition': `attachment; filename="${exportFileName(query.format, startedAt)}"`,
      Trailer: 'X-Audit-Verification, X-Audit-Counts',
    });
    const sink = new ResponseSink(res, () => ({
      'X-Audit-Verification': headerJson(verificationTrailer(ended.verification)),
      'X-Audit-Counts': headerJson(ended.counts),
    }));
    const stop = (): void => void sink.destroy(signal.reason as Error);
    signal.addEventListener('abort', stop, { once: true });
    try {
      await writeExport(query.format, records, sink);
    } finally {
      signal.removeEventListener('abort', stop);
    }
  } catch (caught) {
    error = signal.aborted ? signal.reason : caught;
    if (!res.headersSent && !signal.aborted) sendError(res, failureOf(caught));
    // a body already begun cannot take an error: the missing last chunk says it is incomplete
    else res.destroy();
  } finally {
    release();
  }
  const code = (error as { code?: unknown } | undefined)?.code;
  await finishAccess(ctx, {
    endpoint: 'events',
    format: query.format,
    filter: query.filter,
    requestId: null,
    events: run?.counts.eventsMatched ?? 0,
    counts: run?.counts ?? null,
    verification: run?.verification ?? null,
    error,
    startedAt,
    logFields: {
      filters: filterParams(query.filter),
      requireVerified: query.requireVerified,
      ...(code === AuditErrorCode.VerifyFailed ? { refused: 'verification' } : {}),
    },
  });
}
