/** What the routes of the HTTP service share: its options, and who asks a request. */
import type { ExporterMetrics } from '../exporter-metrics.js';
import type { KeyObject } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import type { ExportFormat } from '../../../schemas/render.js';
import type { ObjectStore } from '../../object-store/object-store.js';
import type { exportEvents, ExportCounts, VerificationSummary } from '../export-events.js';
import type { ExportRequest } from '../export-request.js';
import type { EventFilter } from '../filter.js';

/**
 * Hands an export request to whatever renders it (the exporter group, over
 * the requests topic). Resolves once the request is durably accepted; a
 * rejection means it was not, and the client is told so (503).
 */
export interface ExportSubmitter {
  submit(request: ExportRequest, signal: AbortSignal): Promise<void>;
}

/** One export served: who, from where, what, and how it ended. */
export interface HttpAccess {
  /** The token's name. */
  who: string;
  /** The client's address. */
  from: string | null;
  channel: 'http';
  /** `GET /v1/events` or `GET /v1/exports/{id}/content`. */
  endpoint: 'events' | 'export-content';
  format: ExportFormat | null;
  filter: EventFilter;
  /** The export request's id, for a content download. */
  requestId: string | null;
  /** Events sent (a content download: the events of its result). */
  events: number;
  counts: Readonly<ExportCounts> | null;
  verification: Readonly<VerificationSummary> | null;
  /** Undefined when the export was sent whole; an AbortError when the client went away. */
  error: unknown;
  startedAt: Date;
  endedAt: Date;
}

export interface HttpServiceOptions {
  store: ObjectStore;
  /** Key prefix of the archive. */
  prefix: string;
  /** Key prefix of the exports the exporter group writes. */
  exportsPrefix: string;
  /** Who may ask: the name of the token in a request's `Authorization` header, or undefined. */
  authenticate(authorization: string | undefined): Promise<string | undefined>;
  /** Where `POST /v1/exports` sends requests; without it that endpoint answers 503. */
  submitter?: ExportSubmitter | undefined;
  /** Direct exports verify what they read against digests signed by this key. */
  verifyKey?: KeyObject | undefined;
  graceMs?: number | undefined;
  /** Partitions the archive must hold, when known. */
  expected?: readonly string[] | undefined;
  /** Called once per export served (direct or content download), when it ended or failed. */
  onAccess?: ((access: HttpAccess) => void | Promise<void>) | undefined;
  /**
   * Exports (direct and downloads) served at once; more are refused with 503
   * and Retry-After instead of queueing without bound.
   * @defaultValue 4
   */
  maxConcurrentExports?: number | undefined;
  /** @defaultValue 65536 */
  maxBodyBytes?: number | undefined;
  logger?: Logger | undefined;
  /** Where the service counts the exports it serves. @defaultValue none */
  metrics?: ExporterMetrics | undefined;
  /** The export run; exportEvents unless a test or a caller needs another. */
  exportEvents?: typeof exportEvents | undefined;
}

export const HTTP_SERVICE_DEFAULTS = {
  maxConcurrentExports: 4,
  maxBodyBytes: 65_536,
} as const satisfies Partial<HttpServiceOptions>;

/** One authenticated request as the routes see it. */
export interface RouteContext {
  req: IncomingMessage;
  res: ServerResponse;
  url: URL;
  /** The token's name: `requested_by` of everything this request does. */
  who: string;
  from: string | null;
  /** Aborted when the client goes away or the service stops. */
  signal: AbortSignal;
  options: HttpServiceOptions;
  logger: Logger;
}
