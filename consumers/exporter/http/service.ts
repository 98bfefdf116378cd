/**
 * The HTTP service of the exporter, on node:http (no framework: five routes,
 * bearer tokens, streaming with backpressure and trailers are all the service
 * needs, and node:http gives direct hold of each).
 *
 *   GET  /healthz                    no token
 *   GET  /v1/events?format=&...      a direct export, streamed
 *   POST /v1/exports                 an export request for the exporter group
 *   GET  /v1/exports/{id}            its status (result.json)
 *   GET  /v1/exports/{id}/content    its parts, checked and streamed
 *
 * Every route but /healthz needs a valid bearer token before anything else is
 * done (a wrong path included). Each request's work stops when its client
 * goes away or the service stops (an AbortSignal reaches the export). docs/http.md
 * says the rest.
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { silentLogger } from '../../../common/logger.js';
import { isExportId } from '../export-request.js';
import type { HttpServiceOptions, RouteContext } from './context.js';
import { HTTP_SERVICE_DEFAULTS } from './context.js';
import { eventsRoute } from './events-route.js';
import { contentRoute, statusRoute, submitRoute } from './exports-routes.js';
import {
  badParameter,
  failureOf,
  HttpError,
  sendError,
  sendJson,
  unauthorized,
} from './responses.js';

export interface TlsFiles {
  cert: Buffer;
  key: Buffer;
}

type Handler = (ctx: RouteContext, id: string) => Promise<void>;

interface Route {
  pattern: RegExp;
  methods: Record<string, Handler>;
}

const ID = '([^/]+)';

export class HttpService {
  readonly server: ReturnType<typeof createHttpServer>;
  readonly #options: HttpServiceOptions;
  readonly #stopping = new AbortController();
  readonly #running = new Set<Promise<void>>();
  #exports = 0;
  readonly #routes: Route[];

  constructor(options: HttpServiceOptions, tls?: TlsFiles) {
    this.#options = options;
    const max = options.maxConcurrentExports ?? HTTP_SERVICE_DEFAULTS.maxConcurrentExports;
    if (!Number.isSafeInteger(max) || max < 1)
      throw badParameter('maxConcurrentExports', 'must be a positive whole number');
    const slot = (): (() => void) => {
      if (this.#exports >= max)
        throw new HttpError(503, 'BUSY', `${max} exports are running; try again shortly`, null, {
          'Retry-After': '2',
        });
      this.#exports++;
      let released = false;
      return () => {
        if (!released) this.#exports--;
        released = true;
      };
    };
    this.#routes = [
      { pattern: /^\/v1\/events$/, methods: { GET: (ctx) => eventsRoute(ctx, slot) } },
      { pattern: /^\/v1\/exports$/, methods: { POST: (ctx) => submitRoute(ctx) } },
      { pattern: new RegExp(`^/v1/exports/${ID}$`), methods: { GET: statusRoute } },
      {
        pattern: new RegExp(`^/v1/exports/${ID}/content$`),
        methods: { GET: (ctx, id) => contentRoute(ctx, id, slot) },
      },
    ];
    const listener = (req: IncomingMessage, res: ServerResponse): void => {
      const work = this.#handle(req, res);
      this.#running.add(work);
      void work.finally(() => this.#running.delete(work));
    };
    this.server =
      tls === undefined
        ? createHttpServer(listener)
        : createHttpsServer({ cert: tls.cert, key: tls.key }, listener);
  }

  get #logger() {
    return this.#options.logger ?? silentLogger();
  }

  /** Requests being handled now (an export counts until its access is recorded). */
  get running(): number {
    return this.#running.size;
  }

  /** Exports streaming now. */
  get exportsRunning(): number {
    return this.#exports;
  }

  async listen(port: number, host: string): Promise<AddressInfo> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    return this.server.address() as AddressInfo;
  }

  /**
   * Stops: no new connections, running exports aborted, idle connections
   * closed; waits up to `graceMs` for handlers to end, then closes every
   * connection.
   */
  async close(graceMs = 5000): Promise<void> {
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    this.#stopping.abort(
      Object.assign(new Error('the service is stopping'), { name: 'AbortError' }),
    );
    this.server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.#running]),
      new Promise((resolve) => (timer = setTimeout(resolve, graceMs))),
    ]);
    clearTimeout(timer);
    this.server.closeAllConnections();
    await closed;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const clientGone = new AbortController();
    res.once('close', () => {
      if (!res.writableFinished)
        clientGone.abort(
          Object.assign(new Error('the client closed the connection'), { name: 'AbortError' }),
        );
    });
    const signal = AbortSignal.any([this.#stopping.signal, clientGone.signal]);
    try {
      await this.#route(req, res, signal);
    } catch (error) {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const refusal = failureOf(error);
      if (refusal.status >= 500) this.#logger.error({ err: error }, 'request failed');
      sendError(res, refusal);
    }
  }

  async #route(req: IncomingMessage, res: ServerResponse, signal: AbortSignal): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://service.invalid');
    if (url.pathname === '/healthz') {
      if (req.method !== 'GET') throw notAllowed(['GET']);
      sendJson(res, 200, { status: 'ok' });
      return;
    }
    // the Authorization header is read here only, and never logged
    const who = await this.#options.authenticate(req.headers.authorization);
    if (who === undefined) {
      this.#logger.info(
        { from: req.socket.remoteAddress, path: url.pathname },
        'refused: no valid token',
      );
      throw unauthorized();
    }
    for (const route of this.#routes) {
      const match = route.pattern.exec(url.pathname);
      if (match === null) continue;
      const handler = route.methods[req.method ?? ''];
      if (handler === undefined) throw notAllowed(Object.keys(route.methods));
      const id = match[1] ?? '';
      if (match[1] !== undefined) {
        if (!isExportId(id))
          throw badParameter('id', 'must be an export id (a UUID in lower case)');
        for (const name of url.searchParams.keys())
          throw badParameter(name, 'is not a parameter of this endpoint');
      }
      await handler(
        {
          req,
          res,
          url,
          who,
          from: req.socket.remoteAddress ?? null,
          signal,
          options: this.#options,
          logger: this.#logger,
        },
        id,
      );
      return;
    }
    throw new HttpError(404, 'NOT_FOUND', `no such endpoint: ${url.pathname}`);
  }
}

function notAllowed(methods: string[]): HttpError {
  return new HttpError(405, 'METHOD_NOT_ALLOWED', `allowed: ${methods.join(', ')}`, null, {
    Allow: methods.join(', '),
  });
}

/** Whether binding to `host` keeps the service on this machine. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}
