/**
 * Answers of the HTTP service that are not exports: JSON bodies and the JSON
 * error `{"error": {"code", "message", "parameter"}}`. Every answer says not to
 * cache it and not to sniff its type: it may hold audit data.
 */
import type { ServerResponse } from 'node:http';
import { AuditErrorCode, isAuditError } from '../../../common/errors.js';

/** A refusal to answer with: its status, a code, a message and the parameter at fault. */
export class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  readonly parameter: string | null;
  readonly headers: Record<string, string>;

  constructor(
    status: number,
    code: string,
    message: string,
    parameter: string | null = null,
    headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.code = code;
    this.parameter = parameter;
    this.headers = headers;
  }
}

export const badParameter = (parameter: string, message: string): HttpError =>
  new HttpError(400, AuditErrorCode.InvalidOption, `${parameter}: ${message}`, parameter);

/** The realm of the service's bearer tokens (RFC 6750). */
export const AUTH_CHALLENGE = 'Bearer realm="audit-trail"';

/** The one answer to a request without a valid token: it does not say what was wrong. */
export const unauthorized = (): HttpError =>
  new HttpError(401, 'UNAUTHORIZED', 'a valid bearer token is required', null, {
    'WWW-Authenticate': AUTH_CHALLENGE,
  });

export const SAFE_HEADERS = {
  'Cache-Control': 'no-store',
  'X-Content-Type-Options': 'nosniff',
} as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    ...SAFE_HEADERS,
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function sendError(res: ServerResponse, error: HttpError): void {
  sendJson(
    res,
    error.status,
    { error: { code: error.code, message: error.message, parameter: error.parameter } },
    error.headers,
  );
}

/**
 * The refusal for a failure of the work itself (the store, verification):
 * coded errors keep their code and message, which never hold secrets; any
 * other failure is an internal error whose detail goes to the log only.
 */
export function failureOf(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (isAuditError(error)) {
    const status =
      error.code === AuditErrorCode.VerifyFailed || error.code === AuditErrorCode.ArchiveCorrupt
        ? 409
        : error.retriable || error.code === AuditErrorCode.Unavailable
          ? 503
          : 500;
    return new HttpError(status, error.code, error.message, error.field ?? null);
  }
  return new HttpError(500, 'INTERNAL', 'the export failed; the service log has the detail');
}
