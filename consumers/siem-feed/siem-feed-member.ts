/**
 * A member of a SIEM feed group (`audit-siem-<format>`): reads the events
 * topic and republishes every event, rendered in the feed's format (OCSF, ECS
 * or CEF), on `<events topic>.<format>`, with the record's key (the package
 * name), so that the order of each package is kept. Records that do not decode
 * go to the dead-letter topic in the same transaction.
 *
 * Exactly once for read_committed readers: the records made from a run of
 * records of one partition (up to `batchEvents`) and the offset after them are
 * committed in one Kafka transaction by that partition's producer
 * (consumers/runtime/transactional-partitions.ts: one transactional id per
 * events partition; whoever takes a partition over fences the previous owner
 * and starts from the offset committed before the fence).
 *
 * Why a GroupMember (consumers/runtime/group-member.ts) and not the
 * GroupConsumer record source: offsets are committed by the producer's
 * transactions (`sendOffsets`), not by the consumer; the fetch position moves
 * only over records whose transaction committed (`resolveOffset` after the
 * commit, auto-resolve off), so a failed transaction is fetched and tried again.
 */
import type { SiemFeedMetrics } from './siem-feed-metrics.js';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { type AuditError, ConfigError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { nonEmptyOption, oneOfOption, positiveIntegerOption } from '../../common/options.js';
import { TOPIC_DEFAULTS } from '../../kafka/topics.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { SIEM_FORMATS, type SiemFormat } from '../../schemas/siem/index.js';
import { sourceRecord } from '../runtime/decode-record.js';
import { GroupMember } from '../runtime/group-member.js';
import { TransactionalPartitions } from '../runtime/transactional-partitions.js';
import { feedMessages } from './feed-records.js';

export interface SiemFeedMemberOptions {
  kafka: Kafka;
  format: SiemFormat;
  /** @defaultValue 'audit.events' */
  eventsTopic?: string | undefined;
  /** @defaultValue `<eventsTopic>.<format>` */
  outputTopic?: string | undefined;
  /** @defaultValue `<eventsTopic>.dlq` */
  dlqTopic?: string | undefined;
  /** @defaultValue `audit-siem-<format>` */
  groupId?: string | undefined;
  /**
   * Prefix of the transactional ids, one per events partition; the same on
   * every member of the group and across restarts. @defaultValue `<groupId>.<eventsTopic>`
   */
  transactionalIdPrefix?: string | undefined;
  /** Most records of one partition in one transaction. @defaultValue 1000 */
  batchEvents?: number | undefined;
  /** Partitions handled at the same time (each has its own producer). @defaultValue 3 */
  partitionsConsumedConcurrently?: number | undefined;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  schemas?: SchemaSet | undefined;
  /** Where the member reports its counts. @defaultValue none */
  metrics?: SiemFeedMetrics | undefined;
}

export const SIEM_FEED_DEFAULTS = {
  eventsTopic: TOPIC_DEFAULTS.eventsTopic,
  batchEvents: 1000,
  partitionsConsumedConcurrently: 3,
  sessionTimeoutMs: 30_000,
} as const;

/** The feed's output topic for `format`: `<eventsTopic>.<format>`. */
export function siemFeedTopic(eventsTopic: string, format: SiemFormat): string {
  return `${eventsTopic}.${format}`;
}

/** The feed's consumer group for `format`: `audit-siem-<format>`. */
export function siemFeedGroup(format: SiemFormat): string {
  return `audit-siem-${format}`;
}

export interface SiemFeedStats {
  /** Events published on the output topic (committed transactions). */
  published: number;
  /** Records sent to the dead-letter topic (committed transactions). */
  deadLettered: number;
  /** Records fetched below the committed offset (published before a fence) and skipped. */
  skipped: number;
  transactions: number;
}

export class SiemFeedMember {
  readonly stats: SiemFeedStats = { published: 0, deadLettered: 0, skipped: 0, transactions: 0 };
  readonly format: SiemFormat;
  readonly groupId: string;
  readonly eventsTopic: string;
  readonly outputTopic: string;
  readonly dlqTopic: string;
  /** Resolves with the fault that ended the member (never rejects). */
  readonly failed: Promise<AuditError>;
  private readonly batchEvents: number;
  private readonly group: GroupMember;
  private readonly transactions: TransactionalPartitions;
  private readonly logger: Logger;
  private readonly schemas: SchemaSet;
  private stopped: Promise<void> | undefined;

  constructor(options: SiemFeedMemberOptions) {
    const d = SIEM_FEED_DEFAULTS;
    this.format = oneOfOption('format', options.format, SIEM_FORMATS, options.format);
    this.eventsTopic = nonEmptyOption('eventsTopic', options.eventsTopic, d.eventsTopic);
    this.outputTopic = nonEmptyOption(
      'outputTopic',
      options.outputTopic,
      siemFeedTopic(this.eventsTopic, this.format),
    );
    this.dlqTopic = nonEmptyOption('dlqTopic', options.dlqTopic, `${this.eventsTopic}.dlq`);
    if (this.outputTopic === this.eventsTopic)
      throw new ConfigError(
        'outputTopic',
        `must differ from the events topic "${this.eventsTopic}"`,
      );
    this.groupId = nonEmptyOption('groupId', options.groupId, siemFeedGroup(this.format));
    const transactionalIdPrefix = nonEmptyOption(
      'transactionalIdPrefix',
      options.transactionalIdPrefix,
      `${this.groupId}.${this.eventsTopic}`,
    );
    this.batchEvents = positiveIntegerOption('batchEvents', options.batchEvents, d.batchEvents);
    const concurrency = positiveIntegerOption(
      'partitionsConsumedConcurrently',
      options.partitionsConsumedConcurrently,
      d.partitionsConsumedConcurrently,
    );
    const sessionTimeoutMs = positiveIntegerOption(
      'sessionTimeoutMs',
      options.sessionTimeoutMs,
      d.sessionTimeoutMs,
    );
    this.logger = (options.logger ?? silentLogger()).child({ group: this.groupId });
    this.schemas = options.schemas ?? auditEventSchemas();
    options.metrics?.observe(this);
    this.transactions = new TransactionalPartitions({
      kafka: options.kafka,
      inputTopic: this.eventsTopic,
      groupId: this.groupId,
      transactionalIdPrefix,
      operation: 'publish events to',
      outputTopic: this.outputTopic,
      logger: this.logger,
    });
    this.group = new GroupMember({
      kafka: options.kafka,
      groupId: this.groupId,
      topics: [this.eventsTopic],
      sessionTimeoutMs,
      logger: this.logger,
      name: 'SIEM feed member',
      run: {
        eachBatchAutoResolve: false, // the position moves only over committed transactions
        partitionsConsumedConcurrently: concurrency,
        eachBatch: (payload) => this.handle(payload),
      },
    });
    this.failed = this.group.failed;
  }

  /** The fault that ended the member, if any. */
  get failure(): AuditError | undefined {
    return this.group.failure;
  }

  /** Joins the group and republishes events until `stop()` or a fault (see `failed`). */
  start(): Promise<void> {
    return this.group.start();
  }

  /**
   * Stops: the transaction in progress, if any, is left to finish or is
   * aborted by the next owner of its partition; the clients disconnect.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.group.stop();
      await this.transactions.close();
    })();
    return this.stopped;
  }

  /** Transactions that did not commit, for the metrics. */
  get transactionsAborted(): number {
    return this.transactions.aborted;
  }

  private async handle(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const { partition } = batch;
    const next = await this.transactions.next(partition);
    const messages = batch.messages;
    let start = 0;
    if (next !== undefined) {
      // published by a transaction that committed before this member fenced its producer
      while (start < messages.length && BigInt((messages[start] as KafkaMessage).offset) < next)
        start++;
      const first = messages[start];
      if (start === 0 && first !== undefined && BigInt(first.offset) > next)
        this.logger.warn(
          { partition, next: String(next), first: first.offset },
          'records below the first fetched one were deleted before the feed read them',
        );
    }
    if (start > 0) {
      this.stats.skipped += start;
      payload.resolveOffset((messages[start - 1] as KafkaMessage).offset);
    }
    for (let i = start; i < messages.length; i += this.batchEvents) {
      if (!payload.isRunning() || payload.isStale() || this.group.signal.aborted) return;
      const run = messages.slice(i, i + this.batchEvents);
      const last = (run[run.length - 1] as KafkaMessage).offset;
      const feed = feedMessages(
        run.map((message) =>
          sourceRecord(this.schemas, {
            topic: batch.topic,
            partition,
            offset: Number(message.offset),
            timestamp: Number(message.timestamp),
            key: message.key,
            value: message.value,
            headers: message.headers ?? {},
          }),
        ),
        { format: this.format, outputTopic: this.outputTopic, dlqTopic: this.dlqTopic },
      );
      await this.transactions.commit(partition, feed.topicMessages, BigInt(last) + 1n);
      payload.resolveOffset(last);
      this.stats.transactions++;
      this.stats.published += feed.events;
      this.stats.deadLettered += feed.deadLetters;
      if (feed.deadLetters > 0)
        this.logger.warn(
          { partition, records: feed.deadLetters, dlq: this.dlqTopic },
          'records that do not decode sent to the dead-letter topic',
        );
      this.logger.debug({ partition, events: feed.events, next: last }, 'transaction committed');
      await payload.heartbeat();
    }
  }
}
