/**
 * `export --submit`: the export is asked of the exporter group instead of
 * being rendered here. The request goes to the requests topic (key = its id)
 * and the id is printed; with `--wait` the command then polls the request's
 * `result.json` in the archive store and prints it.
 *
 * Why poll the store rather than read the results topic: `result.json` is the
 * commit point (the topic carries the same result, published after it), the
 * store is already configured for exports, and a poll needs no consumer group,
 * no subscription made before the request is sent and no position to find.
 */
import { KafkaExportSubmitter } from '../../consumers/exporter/http/kafka-submitter.js';
import { hostname, userInfo } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { AuditError, AuditErrorCode, ConfigError } from '../../common/errors.js';
import { RETRY_POLICIES } from '../../common/retry.js';
import { readSetting, type Env } from '../../common/settings.js';
import { readExportResult } from '../../consumers/exporter/export-job.js';
import type { ExportRequest, ExportResult } from '../../consumers/exporter/export-request.js';
import { FILTER_PARAMS, filterParams, parseFilter } from '../../consumers/exporter/filter.js';
import { createKafka } from '../../kafka/client.js';
import { KAFKA_SETTINGS } from '../../kafka/settings.js';
import { isExportFormat } from '../../schemas/render.js';
import { UsageError } from '../args.js';
import { cliSettings, effectiveEnv, type CliSettings } from '../config.js';
import { EXPORTER_SETTINGS } from '../settings.js';
import { archiveStore } from '../store.js';

/** The options of `export` as parseOptions returns them. */
export type ExportOptionValues = Readonly<
  Record<string, string | boolean | readonly (string | boolean)[] | undefined>
>;

/** Exit code of `export --submit --wait` when the export failed (its result is printed). */
export const EXPORT_FAILED_EXIT_CODE = 1;

/** How often `--wait` looks for the result. */
const POLL_MS = { initial: 200, max: 2000 } as const;

function requestedBy(): string {
  try {
    return userInfo().username;
  } catch {
    // no user entry for this uid (a container): the uid says who asked
    return `uid:${process.getuid?.() ?? 'unknown'}`;
  }
}

/** The filter parameters among the options, checked as the exporter will check them. */
function filtersOf(o: ExportOptionValues): Record<string, string | string[]> {
  const params: Record<string, string | string[]> = {};
  for (const name of Object.keys(FILTER_PARAMS)) {
    const value = o[name];
    if (typeof value === 'string') params[name] = value;
    else if (Array.isArray(value)) params[name] = value.map(String);
  }
  return filterParams(parseFilter(params));
}

/** The request `export --submit` sends, from the command's options. */
export function exportRequestOf(o: ExportOptionValues, now = new Date()): ExportRequest {
  const format = o['format'];
  if (typeof format !== 'string') throw new UsageError('--format is required: json, ndjson or csv');
  if (!isExportFormat(format))
    throw new UsageError(`--format must be json, ndjson or csv, got "${format}"`);
  return {
    id: uuidv7(),
    format,
    filters: filtersOf(o),
    requested_by: requestedBy(),
    requested_from: hostname(),
    submitted_at: now.toISOString(),
  };
}

function kafkaFor(settings: CliSettings): NonNullable<CliSettings['kafka']> {
  if (settings.kafka === undefined)
    throw new ConfigError(
      KAFKA_SETTINGS.brokers.name,
      'is required for export --submit: requests go over Kafka to the exporter group (audit-trail exporter); without Kafka, export without --submit renders here',
    );
  return settings.kafka;
}

async function publishRequest(
  settings: CliSettings,
  request: ExportRequest,
  logger: Logger,
): Promise<void> {
  const kafka = createKafka(kafkaFor(settings), logger, { retry: RETRY_POLICIES.kafkaClient });
  // the HTTP service's submitter: a request sent twice (a retry) has one id, answered once from result.json
  const submitter = new KafkaExportSubmitter(kafka, settings.topics.exportRequestsTopic);
  try {
    await submitter.submit(request, new AbortController().signal);
  } finally {
    await submitter.close();
  }
}

async function waitForResult(settings: CliSettings, env: Env, id: string): Promise<ExportResult> {
  const store = archiveStore(settings);
  const timeoutMs = readSetting(env, EXPORTER_SETTINGS.waitTimeoutMs);
  const deadline = Date.now() + timeoutMs;
  for (let delay: number = POLL_MS.initial; ; delay = Math.min(POLL_MS.max, delay * 2)) {
    const result = await readExportResult(store, settings.exportsPrefix, id);
    if (result !== undefined) return result;
    if (Date.now() + delay > deadline)
      throw new AuditError(
        AuditErrorCode.Timeout,
        `no result for export ${id} within ${timeoutMs} ms (AUDIT_EXPORT_WAIT_TIMEOUT_MS); the request stays queued: is an exporter running?`,
      );
    await sleep(delay);
  }
}

/** `export --submit [--wait]`: sends the request, prints its id, and with --wait its result. */
export async function exportSubmit(o: ExportOptionValues, logger: Logger): Promise<number> {
  if (o['wait'] === true && o['submit'] !== true) throw new UsageError('--wait goes with --submit');
  for (const local of ['out', 'archive'])
    if (o[local] !== undefined)
      throw new UsageError(
        `--${local} does not go with --submit: the exporter writes the export into the archive store`,
      );
  const config = o['config'];
  const env = effectiveEnv(typeof config === 'string' ? config : undefined);
  const settings = cliSettings(env);
  const request = exportRequestOf(o);
  kafkaFor(settings);
  await publishRequest(settings, request, logger);
  process.stdout.write(`${request.id}\n`);
  if (o['wait'] !== true) return 0;
  const result = await waitForResult(settings, env, request.id);
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  if (result.status === 'done') return 0;
  process.stderr.write(
    `audit-trail: export ${request.id} failed: ${result.error?.code ?? 'UNKNOWN'}: ${result.error?.message ?? ''}\n`,
  );
  return EXPORT_FAILED_EXIT_CODE;
}
