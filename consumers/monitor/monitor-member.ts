/**
 * A member of the monitor group (`audit-monitor`): one kafkajs consumer on two
 * topics, doing the monitor's two steps.
 *
 * 1. Route: each event of the events topic is copied (the same bytes) to the
 *    keyed topic `<events topic>.monitor`, once per state key the rules need
 *    (monitorKeys), with the state key as the Kafka key and in the
 *    `monitor_key` header; records that do not decode go to the dead-letter
 *    topic. Events are partitioned by package, so the events of one source or
 *    user are spread over partitions; on the keyed topic each key has one
 *    partition, whose records hold everything its rules count.
 * 2. Evaluate: each keyed record is applied to the state of its partition and
 *    the alerts go to the alerts topics (monitor-evaluator.ts).
 *
 * Both steps are read-process-write in Kafka transactions with the input
 * offset, one transactional id per input partition
 * (consumers/runtime/transactional-partitions.ts, one instance per input
 * topic with its own prefix), as the SIEM feed does: offsets are committed by
 * the transactions, the fetch position moves only over committed work
 * (auto-resolve off), and a read_committed reader sees each keyed record and
 * each alert once, whenever members are killed or the group rebalances.
 */
import type { MonitorMetrics } from './monitor-metrics.js';
import type { EachBatchPayload, Kafka, KafkaMessage } from 'kafkajs';
import type { Logger } from 'pino';
import { type AuditError, ConfigError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { nonEmptyOption, positiveIntegerOption } from '../../common/options.js';
import { alertsOcsfTopic, monitorKeyedTopic, TOPIC_DEFAULTS } from '../../kafka/topics.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { sourceRecord } from '../runtime/decode-record.js';
import { GroupMember } from '../runtime/group-member.js';
import { TransactionalPartitions } from '../runtime/transactional-partitions.js';
import { type EvaluateStats, MonitorEvaluator } from './monitor-evaluator.js';
import { routeMessages } from './monitor-records.js';
import { DEFAULT_MONITOR_RULES, type MonitorRules } from './rules.js';

export interface MonitorMemberOptions {
  kafka: Kafka;
  /** @defaultValue DEFAULT_MONITOR_RULES */
  rules?: MonitorRules | undefined;
  /** @defaultValue 'audit.events' */
  eventsTopic?: string | undefined;
  /** The keyed topic. @defaultValue `<eventsTopic>.monitor` */
  keyedTopic?: string | undefined;
  /** @defaultValue `<eventsTopic>.dlq` */
  dlqTopic?: string | undefined;
  /** @defaultValue 'audit.alerts' */
  alertsTopic?: string | undefined;
  /** Alerts as OCSF Detection Findings. @defaultValue `<alertsTopic>.ocsf` */
  alertsOcsfTopic?: string | undefined;
  /** @defaultValue 'audit-monitor' */
  groupId?: string | undefined;
  /**
   * Prefix of the transactional ids, the same on every member and across
   * restarts; `.<input topic>-<partition>` is added. @defaultValue the group id
   */
  transactionalIdPrefix?: string | undefined;
  /** Most records of one partition in one transaction. @defaultValue 1000 */
  batchEvents?: number | undefined;
  /** Partitions (of both topics) handled at the same time. @defaultValue 6 */
  partitionsConsumedConcurrently?: number | undefined;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number | undefined;
  logger?: Logger | undefined;
  schemas?: SchemaSet | undefined;
  /** Where the member reports its counts and alerts. @defaultValue none */
  metrics?: MonitorMetrics | undefined;
}

export const MONITOR_MEMBER_DEFAULTS = {
  groupId: 'audit-monitor',
  eventsTopic: TOPIC_DEFAULTS.eventsTopic,
  alertsTopic: TOPIC_DEFAULTS.alertsTopic,
  batchEvents: 1000,
  partitionsConsumedConcurrently: 6,
  sessionTimeoutMs: 30_000,
} as const;

export interface MonitorStats extends EvaluateStats {
  /** Events read from the events topic and dealt with in committed transactions. */
  read: number;
  /** Records written to the keyed topic (committed transactions; an event once per state key). */
  routed: number;
  /** Events that no enabled rule uses, not routed. */
  unused: number;
  /** Records sent to the dead-letter topic (committed transactions). */
  deadLettered: number;
  /** Events fetched below the committed offset (routed before a fence) and skipped. */
  skipped: number;
}

export class MonitorMember {
  readonly groupId: string;
  readonly eventsTopic: string;
  readonly keyedTopic: string;
  readonly dlqTopic: string;
  readonly alertsTopic: string;
  readonly alertsOcsfTopic: string;
  /** Resolves with the fault that ended the member (never rejects). */
  readonly failed: Promise<AuditError>;
  private readonly route = {
    read: 0,
    routed: 0,
    unused: 0,
    deadLettered: 0,
    skipped: 0,
    transactions: 0,
  };
  private readonly kafka: Kafka;
  private readonly rules: MonitorRules;
  private readonly batchEvents: number;
  private readonly group: GroupMember;
  private readonly routes: TransactionalPartitions;
  private readonly evaluations: TransactionalPartitions;
  private readonly evaluator: MonitorEvaluator;
  private readonly logger: Logger;
  private readonly schemas: SchemaSet;
  /** Each partition held, `<topic>:<partition>`, with the assignment it came with. */
  private readonly assignments = new Map<
    string,
    { topic: string; partition: number; assignment: number }
  >();
  private assignmentCount = 0;
  /** The assignment under which each events partition's producer was last fenced. */
  private readonly routeAssignments = new Map<number, number>();
  private stopped: Promise<void> | undefined;

  constructor(options: MonitorMemberOptions) {
    const d = MONITOR_MEMBER_DEFAULTS;
    this.kafka = options.kafka;
    this.rules = options.rules ?? DEFAULT_MONITOR_RULES;
    this.eventsTopic = nonEmptyOption('eventsTopic', options.eventsTopic, d.eventsTopic);
    this.keyedTopic = nonEmptyOption(
      'keyedTopic',
      options.keyedTopic,
      monitorKeyedTopic(this.eventsTopic),
    );
    this.dlqTopic = nonEmptyOption('dlqTopic', options.dlqTopic, `${this.eventsTopic}.dlq`);
    this.alertsTopic = nonEmptyOption('alertsTopic', options.alertsTopic, d.alertsTopic);
    this.alertsOcsfTopic = nonEmptyOption(
      'alertsOcsfTopic',
      options.alertsOcsfTopic,
      alertsOcsfTopic(this.alertsTopic),
    );
    const topics = [
      this.eventsTopic,
      this.keyedTopic,
      this.dlqTopic,
      this.alertsTopic,
      this.alertsOcsfTopic,
    ];
    if (new Set(topics).size !== topics.length)
      throw new ConfigError('keyedTopic', `the monitor's topics must differ: ${topics.join(', ')}`);
    this.groupId = nonEmptyOption('groupId', options.groupId, d.groupId);
    const prefix = nonEmptyOption(
      'transactionalIdPrefix',
      options.transactionalIdPrefix,
      this.groupId,
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
    const transactional = (inputTopic: string, operation: string, outputTopic: string) =>
      new TransactionalPartitions({
        kafka: options.kafka,
        inputTopic,
        groupId: this.groupId,
        // one prefix per input topic: partition n of each topic has a producer of its own
        transactionalIdPrefix: `${prefix}.${inputTopic}`,
        operation,
        outputTopic,
        logger: this.logger,
      });
    this.routes = transactional(this.eventsTopic, 'route events to', this.keyedTopic);
    this.evaluations = transactional(this.keyedTopic, 'publish alerts to', this.alertsTopic);
    this.evaluator = new MonitorEvaluator({
      keyedTopic: this.keyedTopic,
      topics: { alertsTopic: this.alertsTopic, alertsOcsfTopic: this.alertsOcsfTopic },
      rules: this.rules,
      schemas: this.schemas,
      transactions: this.evaluations,
      batchEvents: this.batchEvents,
      lowWatermark: (partition) => this.lowWatermark(partition),
      seek: (partition, offset) =>
        this.group.consumer.seek({ topic: this.keyedTopic, partition, offset: String(offset) }),
      logger: this.logger,
      metrics: options.metrics,
    });
    options.metrics?.observe(this);
    this.group = new GroupMember({
      kafka: options.kafka,
      groupId: this.groupId,
      // the keyed topic is written in transactions: the member reads it committed
      topics: [this.eventsTopic, this.keyedTopic],
      sessionTimeoutMs,
      logger: this.logger,
      name: 'monitor member',
      run: {
        eachBatchAutoResolve: false, // the position moves only over committed transactions
        partitionsConsumedConcurrently: concurrency,
        eachBatch: (payload) => this.handle(payload),
      },
      onAssignment: (assignment) => this.assigned(assignment),
    });
    this.failed = this.group.failed;
  }

  /** The fault that ended the member, if any. */
  get failure(): AuditError | undefined {
    return this.group.failure;
  }

  /** Transactions that did not commit, for the metrics. */
  get transactionsAborted(): number {
    return this.routes.aborted + this.evaluations.aborted;
  }

  get stats(): MonitorStats {
    const { transactions, ...route } = this.route;
    const evaluate = this.evaluator.stats;
    return { ...evaluate, ...route, transactions: transactions + evaluate.transactions };
  }

  /** Joins the group and runs both steps until `stop()` or a fault (see `failed`). */
  start(): Promise<void> {
    return this.group.start();
  }

  /**
   * Stops: a transaction in progress is left to finish or is aborted by the
   * next owner of its partition; the clients disconnect.
   */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await this.group.stop();
      await this.routes.close();
      await this.evaluations.close();
    })();
    return this.stopped;
  }

  /**
   * The whole new assignment (kafkajs rebalances eagerly): a partition kept
   * keeps its assignment number, a new one gets a fresh one, and the state of a
   * revoked keyed partition is dropped.
   */
  private assigned(memberAssignment: Readonly<Record<string, number[]>>): void {
    const now = new Map<string, { topic: string; partition: number }>();
    for (const topic of [this.eventsTopic, this.keyedTopic])
      for (const partition of memberAssignment[topic] ?? [])
        now.set(`${topic}:${partition}`, { topic, partition });
    for (const [held, { topic, partition }] of [...this.assignments]) {
      if (now.has(held)) continue;
      this.assignments.delete(held);
      if (topic === this.keyedTopic) this.evaluator.revoke(partition);
    }
    for (const [name, { topic, partition }] of now)
      if (!this.assignments.has(name))
        this.assignments.set(name, { topic, partition, assignment: ++this.assignmentCount });
  }

  private assignmentOf(topic: string, partition: number): number | undefined {
    return this.assignments.get(`${topic}:${partition}`)?.assignment;
  }

  private async handle(payload: EachBatchPayload): Promise<void> {
    const { topic, partition } = payload.batch;
    const assignment = this.assignmentOf(topic, partition);
    // fetched before the assignment was known: fetched again, as nothing was resolved
    if (assignment === undefined) return;
    const current = () =>
      !this.group.signal.aborted && this.assignmentOf(topic, partition) === assignment;
    if (topic === this.keyedTopic) await this.evaluator.handle(payload, assignment, current);
    else await this.routeBatch(payload, assignment, current);
  }

  private async routeBatch(
    payload: EachBatchPayload,
    assignment: number,
    current: () => boolean,
  ): Promise<void> {
    const { batch } = payload;
    const { partition } = batch;
    if (this.routeAssignments.get(partition) !== assignment) {
      // a partition new to this member: fence again and read the committed offset afresh
      this.routes.drop(partition);
      this.routeAssignments.set(partition, assignment);
    }
    const next = await this.routes.next(partition);
    const messages = batch.messages;
    let start = 0;
    if (next !== undefined)
      // routed by a transaction that committed before this member fenced its producer
      while (start < messages.length && BigInt((messages[start] as KafkaMessage).offset) < next)
        start++;
    if (start > 0) {
      this.route.skipped += start;
      payload.resolveOffset((messages[start - 1] as KafkaMessage).offset);
    }
    for (let i = start; i < messages.length; i += this.batchEvents) {
      if (!payload.isRunning() || payload.isStale() || !current()) return;
      const run = messages.slice(i, i + this.batchEvents);
      const last = (run[run.length - 1] as KafkaMessage).offset;
      const routed = routeMessages(
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
        this.rules,
        { keyedTopic: this.keyedTopic, dlqTopic: this.dlqTopic },
      );
      await this.routes.commit(partition, routed.topicMessages, BigInt(last) + 1n);
      payload.resolveOffset(last);
      this.route.transactions++;
      this.route.read += run.length;
      this.route.routed += routed.routed;
      this.route.unused += routed.unused;
      this.route.deadLettered += routed.deadLetters;
      if (routed.deadLetters > 0)
        this.logger.warn(
          { partition, records: routed.deadLetters, dlq: this.dlqTopic },
          'records that do not decode sent to the dead-letter topic',
        );
      await payload.heartbeat();
    }
  }

  private async lowWatermark(partition: number): Promise<bigint> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const offsets = await admin.fetchTopicOffsets(this.keyedTopic);
      const low = offsets.find((p) => p.partition === partition)?.low;
      return low !== undefined && /^\d+$/.test(low) ? BigInt(low) : 0n;
    } finally {
      await admin.disconnect().catch((error: unknown) => {
        this.logger.debug({ err: (error as Error).message }, 'admin disconnect failed');
      });
    }
  }
}
