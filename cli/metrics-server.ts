/**
 * `GET /metrics` of a long-running command (archive, exporter, siem-feed,
 * monitor, serve): the Prometheus text format of the process's one registry,
 * on its own port, off unless AUDIT_METRICS_PORT is set. Any other path or
 * method is 404. It serves counts only: no settings, no secrets.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from 'pino';
import { ConfigError } from '../common/errors.js';
import { processRegistry, type Registry } from '../common/metrics/metrics.js';
import { readSetting, type Env } from '../common/settings.js';
import { METRICS_SETTINGS } from './settings.js';

export interface MetricsEndpoint {
  /** The process's registry: every component of the command registers on it. */
  readonly registry: Registry;
  /** `http://host:port/metrics`. */
  readonly url: string;
  close(): Promise<void>;
}

function handler(registry: Registry, logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = (req.url ?? '').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' }).end('not found\n');
      return;
    }
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'Content-Type': registry.contentType });
        res.end(req.method === 'HEAD' ? undefined : text);
      },
      (error: unknown) => {
        logger.warn({ err: (error as Error).message }, 'metrics could not be collected');
        res.writeHead(500, { 'Content-Type': 'text/plain; charset=utf-8' }).end('metrics failed\n');
      },
    );
  };
}

/** Serves `registry` on `port` of `host` until `close()`. */
export async function serveMetrics(
  registry: Registry,
  address: { port: number; host: string },
  logger: Logger,
): Promise<MetricsEndpoint> {
  const server: Server = createServer(handler(registry, logger));
  server.listen(address.port, address.host);
  try {
    await once(server, 'listening');
  } catch (error) {
    throw new ConfigError(
      METRICS_SETTINGS.port.name,
      `cannot listen on ${address.host}:${address.port}: ${(error as Error).message}`,
    );
  }
  const { port } = server.address() as AddressInfo;
  const shown = address.host.includes(':') ? `[${address.host}]` : address.host;
  const url = `http://${shown}:${port}/metrics`;
  logger.info({ url }, 'serving metrics');
  return {
    registry,
    url,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * The metrics of a command, as its settings ask: undefined when
 * AUDIT_METRICS_PORT is not set (nothing listens, the components get no
 * metrics), else the process registry served on that port.
 */
export async function metricsFromSettings(
  env: Env,
  logger: Logger,
): Promise<MetricsEndpoint | undefined> {
  const port = readSetting(env, METRICS_SETTINGS.port);
  if (port === undefined) return undefined;
  const host = readSetting(env, METRICS_SETTINGS.host);
  return serveMetrics(processRegistry(), { port, host }, logger);
}
