/**
 * Exports through the exporter group: `POST /v1/exports` hands a request to
 * the submitter; `GET /v1/exports/{id}` reads its result.json; `GET
 * /v1/exports/{id}/content` streams its parts, each checked against the
 * SHA-256 the result gives before it is sent.
 *
 * An export is its requester's: a token sees only the results of the exports
 * it asked for (another token's id is answered 404, like one without a result).
 * Whether an id without result.json was ever submitted cannot be told from the
 * store, so its status is `pending`.
 */
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { v7 as uuidv7 } from 'uuid';
import { AuditErrorCode, isAuditError } from '../../../common/errors.js';
import { EXPORT_FORMATS, isExportFormat } from '../../../schemas/render.js';
import { isValidObjectKey } from '../../object-store/object-store.js';
import { readExportResult } from '../export-job.js';
import {
  FORMAT_CONTENT_TYPE,
  FORMAT_EXTENSION,
  type ExportRequest,
  type ExportResult,
} from '../export-request.js';
import { FilterError, filterParams, parseFilter, type EventFilter } from '../filter.js';
import { finishAccess } from './access.js';
import type { RouteContext } from './context.js';
import { HTTP_SERVICE_DEFAULTS } from './context.js';
import {
  badParameter,
  failureOf,
  HttpError,
  SAFE_HEADERS,
  sendError,
  sendJson,
} from './responses.js';

export const exportPath = (id: string): string => `/v1/exports/${id}`;

async function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer> {
  const tooLarge = (): HttpError =>
    new HttpError(413, 'BODY_TOO_LARGE', `the body may be ${maxBytes} bytes at most`, 'body', {
      Connection: 'close',
    });
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > maxBytes) throw tooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** The body of `POST /v1/exports` (pure): `{"format", "filters"}`, every fault named. */
export function parseExportBody(body: Buffer): {
  format: ExportRequest['format'];
  filter: EventFilter;
} {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    throw badParameter('body', 'is not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw badParameter('body', 'must be a JSON object {"format": ..., "filters": {...}}');
  const fields = value as Record<string, unknown>;
  for (const name of Object.keys(fields))
    if (name !== 'format' && name !== 'filters')
      throw badParameter(name, 'is not a field of an export request (fields: format, filters)');
  const format = fields['format'];
  if (!isExportFormat(format))
    throw badParameter('format', `must be one of ${EXPORT_FORMATS.join(', ')}`);
  const filters = fields['filters'] ?? {};
  if (typeof filters !== 'object' || filters === null || Array.isArray(filters))
    throw badParameter('filters', 'must be a JSON object of filter parameters');
  for (const [name, v] of Object.entries(filters))
    if (typeof v !== 'string' && !(Array.isArray(v) && v.every((item) => typeof item === 'string')))
      throw badParameter(`filters.${name}`, 'must be a string or an array of strings');
  try {
    return { format, filter: parseFilter(filters as Record<string, string | string[]>) };
  } catch (error) {
    if (error instanceof FilterError) {
      const parameter = `filters.${error.field ?? ''}`;
      throw new HttpError(400, error.code, `filters.${error.message}`, parameter);
    }
    throw error;
  }
}

export async function submitRoute(ctx: RouteContext): Promise<void> {
  const { req, res, options } = ctx;
  const type = req.headers['content-type'] ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type))
    throw new HttpError(
      415,
      'UNSUPPORTED_MEDIA_TYPE',
      'the body must be application/json',
      'Content-Type',
    );
  const body = await readBody(req, options.maxBodyBytes ?? HTTP_SERVICE_DEFAULTS.maxBodyBytes);
  const { format, filter } = parseExportBody(body);
  if (options.submitter === undefined)
    throw new HttpError(
      503,
      AuditErrorCode.Unavailable,
      'this service takes no export requests: no Kafka is configured (KAFKA_BROKERS); GET /v1/events exports directly',
    );
  const request: ExportRequest = {
    id: uuidv7(),
    format,
    filters: filterParams(filter),
    requested_by: ctx.who,
    requested_from: ctx.from,
    submitted_at: new Date().toISOString(),
  };
  try {
    await options.submitter.submit(request, ctx.signal);
  } catch (error) {
    ctx.logger.warn({ who: ctx.who, id: request.id, err: error }, 'export request not queued');
    throw new HttpError(
      503,
      isAuditError(error) ? error.code : AuditErrorCode.Unavailable,
      'the export request could not be queued; try again later',
      null,
      { 'Retry-After': '5' },
    );
  }
  ctx.logger.info(
    { who: ctx.who, from: ctx.from, id: request.id, format, filters: request.filters },
    'export request queued',
  );
  const location = exportPath(request.id);
  sendJson(
    res,
    202,
    { id: request.id, status_url: location, content_url: `${location}/content` },
    { Location: location },
  );
}

const resultFault = (id: string, message: string): HttpError =>
  new HttpError(500, AuditErrorCode.ArchiveCorrupt, `the result of export ${id} ${message}`);

/** The result of export `id` when there is one and it is `who`'s. */
async function readResult(ctx: RouteContext, id: string): Promise<ExportResult | undefined> {
  const { store, exportsPrefix } = ctx.options;
  let result: ExportResult | undefined;
  try {
    result = await readExportResult(store, exportsPrefix, id);
  } catch (error) {
    if (isAuditError(error) && error.code === AuditErrorCode.InvalidState)
      throw resultFault(id, 'is not JSON');
    throw error;
  }
  if (result === undefined) return undefined;
  if (typeof result !== 'object' || result === null || result.id !== id)
    throw resultFault(id, 'names another export');
  if (result.status !== 'done' && result.status !== 'failed')
    throw resultFault(id, 'has no status');
  if (result.requested_by !== ctx.who) {
    ctx.logger.warn({ who: ctx.who, id }, 'export of another token asked for');
    throw new HttpError(
      404,
      AuditErrorCode.NotFound,
      `export ${id} is not among this token's`,
      'id',
    );
  }
  return result;
}

export async function statusRoute(ctx: RouteContext, id: string): Promise<void> {
  const result = await readResult(ctx, id);
  sendJson(ctx.res, 200, result ?? { id, status: 'pending' });
}

/** The parts of a done result, checked: keys of this export's folder, sizes and hashes well-formed. */
function checkedParts(ctx: RouteContext, result: ExportResult): ExportResult['parts'] {
  const folder = `${ctx.options.exportsPrefix}/${result.id}/`;
  if (!Array.isArray(result.parts)) throw resultFault(result.id, 'has no parts');
  for (const part of result.parts) {
    if (
      typeof part?.key !== 'string' ||
      !part.key.startsWith(folder) ||
      !isValidObjectKey(part.key) ||
      !/^[0-9a-f]{64}$/.test(String(part.sha256)) ||
      !Number.isSafeInteger(part.bytes) ||
      part.bytes < 0
    )
      throw resultFault(result.id, `lists a part outside ${folder} or without its size and hash`);
  }
  return result.parts;
}

export async function contentRoute(
  ctx: RouteContext,
  id: string,
  claimSlot: () => () => void,
): Promise<void> {
  const { res, signal, options } = ctx;
  const result = await readResult(ctx, id);
  if (result === undefined)
    throw new HttpError(
      404,
      AuditErrorCode.NotFound,
      `export ${id} has no result yet (pending, or never submitted)`,
      'id',
    );
  if (result.status === 'failed') {
    sendJson(res, 409, {
      error: {
        code: result.error?.code ?? 'EXPORT_FAILED',
        message: `export ${id} failed: ${result.error?.message ?? 'no reason given'}`,
        parameter: result.error?.field ?? null,
      },
    });
    return;
  }
  const format = result.format;
  if (!isExportFormat(format)) throw resultFault(id, 'has no format');
  const parts = checkedParts(ctx, result);
  const release = claimSlot();
  const startedAt = new Date();
  let error: unknown;
  try {
    const head = {
      ...SAFE_HEADERS,
      'Content-Type': FORMAT_CONTENT_TYPE[format],
      'Content-Disposition': `attachment; filename="audit-export-${id}.${FORMAT_EXTENSION[format]}"`,
      'Content-Length': parts.reduce((sum, part) => sum + part.bytes, 0),
    };
    for (const part of parts) {
      signal.throwIfAborted();
      const bytes = await options.store.get(part.key);
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      if (bytes.length !== part.bytes || sha256 !== part.sha256)
        throw new HttpError(
          500,
          AuditErrorCode.ArchiveCorrupt,
          `part ${part.key} of export ${id} does not match its result (${bytes.length} bytes, SHA-256 ${sha256}; the result says ${part.bytes} bytes, ${part.sha256})`,
        );
      // the status goes with the first part that checks out, so that a bad first part is a JSON error
      if (!res.headersSent) res.writeHead(200, head);
      if (!res.write(bytes)) await once(res, 'drain', { signal });
    }
    if (!res.headersSent) res.writeHead(200, head);
    res.end();
  } catch (caught) {
    error = signal.aborted ? signal.reason : caught;
    if (!signal.aborted)
      ctx.logger.error({ who: ctx.who, id, err: caught }, 'export content not sent whole');
    if (!res.headersSent && !signal.aborted) sendError(res, failureOf(caught));
    // the status and length are sent: a short body, then a closed connection, is what a client sees
    else res.destroy();
  } finally {
    release();
  }
  await finishAccess(ctx, {
    endpoint: 'export-content',
    format,
    filter: filterOf(result, ctx),
    requestId: id,
    events: result.events,
    counts: result.counts,
    verification: result.verification,
    error,
    startedAt,
  });
}

/** The filter of the request behind a result, as its access record gives it; unknown when absent. */
function filterOf(result: ExportResult, ctx: RouteContext): EventFilter {
  const filters = (result as ExportResult & { filters?: unknown }).filters;
  if (typeof filters !== 'object' || filters === null) return {};
  try {
    return parseFilter(filters as Record<string, string | string[]>);
  } catch (error) {
    ctx.logger.warn({ id: result.id, err: error }, 'the filters of an export result do not parse');
    return {};
  }
}
