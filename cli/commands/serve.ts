/**
 * `serve`: the HTTP service of the exporter (consumers/exporter/http/) on the
 * configured archive store, until SIGTERM or SIGINT; then it stops taking
 * connections, aborts the exports running and exits.
 */
import { ExporterMetrics } from '../../consumers/exporter/exporter-metrics.js';
import { metricsFromSettings } from '../metrics-server.js';
import { once } from 'node:events';
import type { Logger } from 'pino';
import { ConfigError } from '../../common/errors.js';
import { RETRY_POLICIES } from '../../common/retry.js';
import { readSetting, type Env } from '../../common/settings.js';
import { HTTP_SETTINGS, port as portParser } from '../../consumers/exporter/http/http-settings.js';
import { KafkaExportSubmitter } from '../../consumers/exporter/http/kafka-submitter.js';
import { HttpService, isLoopback, type TlsFiles } from '../../consumers/exporter/http/service.js';
import { readPrivateFile, TokensFile } from '../../consumers/exporter/http/tokens.js';
import { createKafka } from '../../kafka/client.js';
import { recordAccessOnce } from '../access.js';
import { parseOptions, UsageError } from '../args.js';
import { cliSettings, effectiveEnv, type CliSettings } from '../config.js';
import { verifyKey } from '../keys.js';
import { archiveStore } from '../store.js';
import { expectedPartitions } from '../verification.js';
import { readFile } from 'node:fs/promises';
import { SERVE_COMMAND } from '../command-specs.js';

async function tlsFiles(env: Env): Promise<TlsFiles | undefined> {
  const certPath = readSetting(env, HTTP_SETTINGS.tlsCert);
  const keyPath = readSetting(env, HTTP_SETTINGS.tlsKey);
  if (certPath === undefined && keyPath === undefined) return undefined;
  if (certPath === undefined || keyPath === undefined)
    throw new ConfigError(
      HTTP_SETTINGS.tlsKey.name,
      `and ${HTTP_SETTINGS.tlsCert.name} must be given together`,
    );
  let cert: Buffer;
  try {
    cert = await readFile(certPath);
  } catch (error) {
    throw new ConfigError(
      HTTP_SETTINGS.tlsCert.name,
      `cannot read ${certPath}: ${(error as Error).message}`,
    );
  }
  // the private key is held to the tokens file's rule: its owner's only
  const key = await readPrivateFile(HTTP_SETTINGS.tlsKey.name, keyPath);
  return { cert, key: Buffer.from(key?.text ?? '', 'utf8') };
}

function portOf(option: string | undefined, env: Env): number {
  if (option === undefined) return readSetting(env, HTTP_SETTINGS.port);
  const value = portParser.parse(option);
  if (value === undefined)
    throw new UsageError(`--port must be ${portParser.expects}, got "${option}"`);
  return value;
}

function urlOf(tls: boolean, host: string, port: number): string {
  const shown = host.includes(':') ? `[${host}]` : host;
  return `${tls ? 'https' : 'http'}://${shown}:${port}/`;
}

async function verification(settings: CliSettings, logger: Logger) {
  if (settings.verifyKeyFile === undefined) return { key: undefined, expected: undefined };
  return { key: verifyKey(settings), expected: await expectedPartitions(settings, logger) };
}

export async function serveCommand(args: string[], logger: Logger): Promise<number> {
  const o = parseOptions(args, SERVE_COMMAND.options);
  const env = effectiveEnv(o.config);
  const settings = cliSettings(env);
  const port = portOf(o.port, env);
  const host = o.host ?? readSetting(env, HTTP_SETTINGS.host);
  const tokensPath = readSetting(env, HTTP_SETTINGS.tokensFile);
  if (tokensPath === undefined)
    throw new ConfigError(
      HTTP_SETTINGS.tokensFile.name,
      'is required: the tokens serve accepts (audit-trail tokens add NAME)',
    );
  const tokens = await TokensFile.open(tokensPath, (error) =>
    logger.error(
      { err: error },
      'the tokens file cannot be used: no token is accepted until it is fixed',
    ),
  );
  const tls = await tlsFiles(env);
  const store = archiveStore(settings);
  const verify = await verification(settings, logger);
  const submitter =
    settings.kafka === undefined
      ? undefined
      : new KafkaExportSubmitter(
          createKafka(settings.kafka, logger, { retry: RETRY_POLICIES.kafkaClient }),
          settings.topics.exportRequestsTopic,
        );
  const endpoint = await metricsFromSettings(env, logger);
  const service = new HttpService(
    {
      store,
      prefix: settings.prefix,
      exportsPrefix: settings.exportsPrefix,
      authenticate: async (header) => (await tokens.current()).authenticate(header),
      submitter,
      verifyKey: verify.key,
      graceMs: settings.verifyGraceMs,
      expected: verify.expected,
      maxConcurrentExports: readSetting(env, HTTP_SETTINGS.maxConcurrentExports),
      logger,
      metrics: endpoint && new ExporterMetrics({ registry: endpoint.registry }),
      // who read the audit data: an access record through the configured trail, after each export
      onAccess: async (access) => {
        await recordAccessOnce(settings, logger, {
          who: access.who,
          from: access.from,
          channel: 'http',
          format: access.format,
          filter: access.filter,
          requestId: access.requestId,
          counts: access.counts ?? { eventsMatched: access.events },
          verification: access.verification,
          error: access.error,
          startedAt: access.startedAt,
          endedAt: access.endedAt,
        });
      },
    },
    tls,
  );
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  try {
    const address = await service.listen(port, host);
    if (tls === undefined && !isLoopback(host))
      logger.warn(
        { host },
        'serving plain HTTP on an address other machines can reach: tokens and audit data cross the network unencrypted (set AUDIT_HTTP_TLS_CERT and AUDIT_HTTP_TLS_KEY, or put a TLS proxy in front)',
      );
    const url = urlOf(tls !== undefined, host, address.port);
    logger.info({ url, store: store.description }, 'serving');
    process.stdout.write(`listening on ${url}\n`);
    await once(stop.signal, 'abort');
    logger.info('stopping: no new connections, running exports aborted');
    await service.close();
  } finally {
    process.off('SIGTERM', onSignal);
    process.off('SIGINT', onSignal);
    await submitter?.close();
    await endpoint?.close();
  }
  return 0;
}
