/**
 * The end of every export served: one log line (who, from where, what, how
 * many, the verification, how it ended) and the onAccess hook, whose failure
 * is logged, never hidden and never thrown at the client, who has the export.
 */
import { isAbort } from '../../../common/abort.js';
import type { HttpAccess, RouteContext } from './context.js';
import { verificationTrailer } from './trailers.js';
import type { ExportOutcome } from '../exporter-metrics.js';

export type AccessEnd = Omit<HttpAccess, 'who' | 'from' | 'channel' | 'endedAt'> & {
  logFields?: Record<string, unknown>;
};

function errorFields(error: unknown): Record<string, unknown> {
  if (error === undefined) return { outcome: 'sent' };
  if (isAbort(error)) return { outcome: 'aborted' };
  const e = error as { code?: unknown; message?: unknown };
  return { outcome: 'failed', error: { code: e.code ?? 'INTERNAL', message: e.message } };
}

function outcomeOf(error: unknown): ExportOutcome {
  if (error === undefined) return 'done';
  return isAbort(error) ? 'aborted' : 'failed';
}

export async function finishAccess(ctx: RouteContext, end: AccessEnd): Promise<void> {
  const { logFields, ...rest } = end;
  const access: HttpAccess = {
    ...rest,
    who: ctx.who,
    from: ctx.from,
    channel: 'http',
    endedAt: new Date(),
  };
  const line = {
    who: access.who,
    from: access.from,
    endpoint: access.endpoint,
    format: access.format,
    requestId: access.requestId ?? undefined,
    events: access.events,
    counts: access.counts,
    verification: access.verification === null ? null : verificationTrailer(access.verification),
    durationMs: access.endedAt.getTime() - access.startedAt.getTime(),
    ...logFields,
    ...errorFields(access.error),
  };
  if (access.error === undefined) ctx.logger.info(line, 'export served');
  else ctx.logger.warn(line, 'export not completed');
  ctx.options.metrics?.exported({
    channel: 'http',
    format: access.format,
    outcome: outcomeOf(access.error),
    rows: access.events,
    counts: access.counts,
    verification: access.verification,
  });
  try {
    await ctx.options.onAccess?.(access);
  } catch (error) {
    ctx.logger.error(
      { who: access.who, endpoint: access.endpoint, err: error },
      'the access could not be recorded',
    );
  }
}
