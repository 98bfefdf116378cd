/**
 * A member of the exporter group (`audit-exporter`): reads export requests,
 * renders each into the object store (export-job.ts) and publishes its result
 * on the results topic in a Kafka transaction that also commits the request's
 * offset. A read_committed reader of the results topic sees each request's
 * result once, whenever a member is killed.
 *
 * Why a GroupMember (consumers/runtime/group-member.ts) and not the GroupConsumer record source:
 * the offset of a request is committed by the producer's transaction
 * (`sendOffsets`), not by the consumer, and requests are JSON, not Avro events.
 *
 * Fencing: one transactional id per requests partition (result-publisher.ts).
 */
import type { ExportMeasure, ExporterMetrics } from './exporter-metrics.js';
import type { EachMessagePayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { KeyObject } from 'node:crypto';
import { AuditError, AuditErrorCode, isConfigurationFault } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { nonEmptyOption, positiveIntegerOption } from '../../common/options.js';
import { RETRY_POLICIES, retry } from '../../common/retry.js';
import { TOPIC_DEFAULTS } from '../../kafka/topics.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { GroupMember } from '../runtime/group-member.js';
import { ResultPublisher } from './result-publisher.js';
import {
  checkExportsPrefix,
  commitFailure,
  EXPORT_JOB_DEFAULTS,
  runExportJob,
  type ExportJobOptions,
} from './export-job.js';
import {
  parseExportRequest,
  requestIdOf,
  type ExportRequest,
  type ExportResult,
} from './export-request.js';

export interface ExporterMemberOptions {
  kafka: Kafka;
  /** The store holding the archive and the exports. */
  store: ObjectStore;
  /** Key prefix of the archive. */
  archivePrefix: string;
  /** Key prefix of the exports. @defaultValue 'exports' */
  exportsPrefix?: string | undefined;
  /** Largest part of an export, in bytes. @defaultValue 8388608 (8 MiB) */
  partBytes?: number | undefined;
  /** Verify every archive object read; an export of objects that do not verify fails. */
  verifyKey?: KeyObject | undefined;
  graceMs?: number | undefined;
  /** @defaultValue 'audit.export.requests' */
  requestsTopic?: string | undefined;
  /** @defaultValue 'audit.export.results' */
  resultsTopic?: string | undefined;
  /** @defaultValue 'audit-exporter' */
  groupId?: string | undefined;
  /**
   * Prefix of the transactional ids, one per requests partition; the same on
   * every member of the group and across restarts. @defaultValue `audit-exporter.<requestsTopic>`
   */
  transactionalIdPrefix?: string | undefined;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  /**
   * Called once a request's result is committed in the store, before the
   * result is published; at least once per request (again when the member is
   * killed before publishing). An error thrown makes the request tried again.
   * Where access records (who exported what) are written.
   */
  onExported?: ((request: ExportRequest, result: ExportResult) => Promise<void> | void) | undefined;
  /** Where the member counts the requests it answers. @defaultValue none */
  metrics?: ExporterMetrics | undefined;
}

export const EXPORTER_MEMBER_DEFAULTS = {
  groupId: 'audit-exporter',
  requestsTopic: TOPIC_DEFAULTS.exportRequestsTopic,
  resultsTopic: TOPIC_DEFAULTS.exportResultsTopic,
  sessionTimeoutMs: 30_000,
} as const;

export interface ExporterStats {
  /** Results published (done or failed). */
  answered: number;
  /** Of those, rendered by this member. */
  rendered: number;
  /** Of those, read from a result.json an earlier attempt committed. */
  reused: number;
  /** Of those, failed results. */
  failed: number;
  /** Requests without a readable id: skipped, with a warning. */
  skipped: number;
}

type Answer =
  | { kind: 'skipped' }
  | { kind: 'answered'; result: ExportResult; request?: ExportRequest; reused: boolean };

/** An answered request as the metrics count it. */
function exportMeasure(answer: Answer): ExportMeasure {
  if (answer.kind === 'skipped')
    return {
      channel: 'request',
      format: null,
      outcome: 'skipped',
      rows: 0,
      counts: null,
      verification: null,
    };
  const { result } = answer;
  return {
    channel: 'request',
    format: result.format,
    outcome: result.status,
    rows: result.events,
    bytes: result.parts.reduce((sum, part) => sum + part.bytes, 0),
    counts: result.counts,
    verification: result.verification,
  };
}

export class ExporterMember {
  readonly stats: ExporterStats = { answered: 0, rendered: 0, reused: 0, failed: 0, skipped: 0 };
  readonly groupId: string;
  readonly requestsTopic: string;
  readonly resultsTopic: string;
  /** Resolves with the fault that ended the member (never rejects). */
  readonly failed: Promise<AuditError>;
  private readonly options: ExporterMemberOptions;
  private readonly transactionalIdPrefix: string;
  private readonly group: GroupMember;
  private readonly logger: Logger;
  private readonly job: ExportJobOptions;
  private readonly publisher: ResultPublisher;
  private stopped: Promise<void> | undefined;

  constructor(options: ExporterMemberOptions) {
    const d = EXPORTER_MEMBER_DEFAULTS;
    this.options = options;
    this.groupId = nonEmptyOption('groupId', options.groupId, d.groupId);
    this.requestsTopic = nonEmptyOption('requestsTopic', options.requestsTopic, d.requestsTopic);
    this.resultsTopic = nonEmptyOption('resultsTopic', options.resultsTopic, d.resultsTopic);
    this.transactionalIdPrefix = nonEmptyOption(
      'transactionalIdPrefix',
      options.transactionalIdPrefix,
      `audit-exporter.${this.requestsTopic}`,
    );
    const sessionTimeoutMs = positiveIntegerOption(
      'sessionTimeoutMs',
      options.sessionTimeoutMs,
      d.sessionTimeoutMs,
    );
    this.logger = (options.logger ?? silentLogger()).child({ group: this.groupId });
    this.job = {
      store: options.store,
      archivePrefix: options.archivePrefix,
      exportsPrefix: options.exportsPrefix,
      partBytes: options.partBytes,
      verifyKey: options.verifyKey,
      graceMs: options.graceMs,
    };
    // checked now rather than at the first request
    checkExportsPrefix(
      options.archivePrefix,
      options.exportsPrefix ?? EXPORT_JOB_DEFAULTS.exportsPrefix,
    );
    positiveIntegerOption('partBytes', options.partBytes, EXPORT_JOB_DEFAULTS.partBytes);
    this.publisher = new ResultPublisher({
      kafka: options.kafka,
      requestsTopic: this.requestsTopic,
      resultsTopic: this.resultsTopic,
      groupId: this.groupId,
      transactionalIdPrefix: this.transactionalIdPrefix,
      logger: this.logger,
    });
    this.group = new GroupMember({
      kafka: options.kafka,
      groupId: this.groupId,
      topics: [this.requestsTopic],
      sessionTimeoutMs,
      logger: this.logger,
      name: 'exporter member',
      // offsets are committed by each result's transaction
      run: { eachMessage: (payload) => this.handle(payload) },
    });
    this.failed = this.group.failed;
  }

  /** The fault that ended the member, if any. */
  get failure(): AuditError | undefined {
    return this.group.failure;
  }

  /** Joins the group and serves requests until `stop()` or a fault (see `failed`). */
  start(): Promise<void> {
    return this.group.start();
  }

  /** Stops serving: a rendering in progress is abandoned (nothing committed), clients disconnect. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.group.stop();
      await this.publisher.close();
    })();
    return this.stopped;
  }

  private async handle(payload: EachMessagePayload): Promise<void> {
    const { partition, message } = payload;
    const offset = BigInt(message.offset);
    const floor = await this.publisher.floor(partition);
    if (floor !== undefined && offset < floor) return; // answered before this member fenced the earlier one
    const render = new AbortController();
    const signal = AbortSignal.any([this.group.signal, render.signal]);
    let beating = false;
    const keepAlive = (): void => {
      if (beating) return;
      beating = true;
      // kafkajs sends at most one heartbeat per interval; a refusal (rebalance) ends the rendering
      payload
        .heartbeat()
        .catch((error: unknown) => render.abort(error))
        .finally(() => (beating = false));
    };
    const answer = await this.answerWithRetries(message.value, signal, keepAlive, partition);
    if (answer.kind === 'answered' && answer.request !== undefined)
      await this.options.onExported?.(answer.request, answer.result);
    await this.publisher.publish(
      partition,
      offset,
      answer.kind === 'answered' ? answer.result : undefined,
    );
    this.count(answer);
  }

  private count(answer: Answer): void {
    this.options.metrics?.exported(exportMeasure(answer));
    if (answer.kind === 'skipped') {
      this.stats.skipped++;
      return;
    }
    this.stats.answered++;
    if (answer.reused) this.stats.reused++;
    else this.stats.rendered++;
    if (answer.result.status === 'failed') this.stats.failed++;
  }

  /**
   * The answer to one request. Faults of the servers (retriable) are retried
   * as long as the member runs; a fault of the configuration ends the member;
   * any other fault becomes the request's failed result.
   */
  private async answerWithRetries(
    value: Buffer | null,
    signal: AbortSignal,
    keepAlive: () => void,
    partition: number,
  ): Promise<Answer> {
    const bytes = value ?? Buffer.alloc(0);
    const job: ExportJobOptions = { ...this.job, signal, keepAlive };
    try {
      return await retry(() => this.answer(bytes, job, partition), {
        policy: RETRY_POLICIES.storeWrite,
        signal,
        isRetriable: (error) => error instanceof AuditError && error.retriable && !signal.aborted,
        onRetry: (error, attempt, delayMs) => {
          keepAlive();
          this.logger.warn(
            { err: (error as Error).message, attempt, delayMs },
            'export request: retrying',
          );
        },
      });
    } catch (error) {
      if (signal.aborted) throw signal.reason;
      if (isConfigurationFault(error)) {
        this.group.fail(error);
        void this.stop();
        throw error;
      }
      const id = requestIdOf(bytes);
      if (id === undefined) throw error;
      const coded =
        error instanceof AuditError
          ? error
          : new AuditError(
              AuditErrorCode.InvalidState,
              `unexpected error: ${(error as Error).message}`,
              { cause: error },
            );
      this.logger.error({ id, err: coded.message, code: coded.code }, 'export request failed');
      return {
        kind: 'answered',
        result: (await commitFailure(id, coded, job)).result,
        reused: false,
      };
    }
  }

  private async answer(bytes: Buffer, job: ExportJobOptions, partition: number): Promise<Answer> {
    let request: ExportRequest;
    try {
      request = parseExportRequest(bytes);
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      const id = requestIdOf(bytes);
      this.logger.warn(
        { partition, id, err: error.message },
        id === undefined ? 'export request skipped: no id to answer to' : 'export request refused',
      );
      if (id === undefined) return { kind: 'skipped' };
      const outcome = await commitFailure(id, error, job);
      return { kind: 'answered', result: outcome.result, reused: outcome.reused };
    }
    const outcome = await runExportJob(request, job);
    this.logger.info(
      { id: request.id, status: outcome.result.status, reused: outcome.reused },
      'export request answered',
    );
    return { kind: 'answered', request, result: outcome.result, reused: outcome.reused };
  }
}
