/**
 * The Kafka record source: a member of a consumer group on one topic, shared by
 * every consumer (archiver, tests).
 *
 * - records are decoded and validated once (decode-record.ts) and delivered
 *   per partition batch, in slices of DELIVERY_SLICE records; those that do
 *   not decode are delivered too, with the reason, so that the consumer sends
 *   them to its dead letters and resolves their offsets like any other;
 * - offsets are committed (explicitly, autoCommit off) only up to what the
 *   consumer reports as durably done; the fetch position may run ahead of that
 *   over records the consumer has taken into memory (`taken`), so that a batch
 *   held open across many fetches is not fetched again and again;
 * - a member dropped by the group (its batch outlived the session) joins again;
 *   refused commits and heartbeats of that kind are logged, not thrown;
 * - `stop()` lets the running batch finish, commits what is done and leaves
 *   the group.
 */
import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import { AuditError, AuditErrorCode, isConfigurationFault } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { nonEmptyOption, positiveIntegerOption } from '../../common/options.js';
import { RETRY_POLICIES, retry } from '../../common/retry.js';
import { kafkaBrokers } from '../../kafka/client.js';
import { kafkaError } from '../../kafka/errors.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { sourceRecord } from './decode-record.js';
import { membershipLostType, refusedForLostMembership } from './membership.js';
import type { RecordConsumer, RecordSource, SourceRecord, SourceStats } from './record-source.js';

export interface GroupConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** @defaultValue 'audit.events' */
  topic?: string;
  /** Start from the oldest record when the group has no committed offset. @defaultValue true */
  fromBeginning?: boolean;
  /** Partitions handled at the same time. @defaultValue 1 */
  partitionsConsumedConcurrently?: number;
  /** How soon a member that stopped answering loses its partitions. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** Upper bound of fetched bytes per partition, and so of one batch. @defaultValue 1 MiB */
  maxBytesPerPartition?: number;
  /** Upper bound of the bytes of one fetch, all partitions together. @defaultValue 10 MiB */
  maxBytes?: number;
  /**
   * How long the broker holds a fetch that finds no new record: an idle member
   * notices a stop (and `stop()` returns) within about this long.
   * @defaultValue 500
   */
  maxWaitTimeMs?: number;
  logger?: Logger;
  schemas?: SchemaSet;
}

export const GROUP_CONSUMER_DEFAULTS = {
  topic: 'audit.events',
  fromBeginning: true,
  partitionsConsumedConcurrently: 1,
  sessionTimeoutMs: 30_000,
  maxBytesPerPartition: 1024 * 1024,
  maxBytes: 10 * 1024 * 1024,
  maxWaitTimeMs: 500,
} as const satisfies Partial<GroupConsumerOptions>;

/** Records decoded and handed to the consumer at a time, out of a fetched batch. */
export const DELIVERY_SLICE = 250;

export class GroupConsumer implements RecordSource {
  readonly stats: SourceStats = { batches: 0, records: 0 };
  readonly topic: string;
  readonly groupId: string;
  private readonly kafka: Kafka;
  private readonly fromBeginning: boolean;
  private readonly concurrency: number;
  private readonly sessionTimeoutMs: number;
  private readonly consumer: Consumer;
  private readonly logger: Logger;
  private readonly schemas: SchemaSet;
  private handler: RecordConsumer | undefined;
  private stopping: Promise<void> | undefined;
  /** The offsets this member last committed, so that an unchanged or older one is not sent. */
  private readonly committed = new Map<number, number>();
  /** The commit under way for each partition: commits of a partition go one after the other. */
  private readonly commits = new Map<number, Promise<unknown>>();
  /** When the coordinator last confirmed this member (join or heartbeat); 0 while rebalancing. */
  private confirmedAt = 0;

  constructor(options: GroupConsumerOptions) {
    const d = GROUP_CONSUMER_DEFAULTS;
    this.kafka = options.kafka;
    this.groupId = nonEmptyOption('groupId', options.groupId, '');
    this.topic = nonEmptyOption('topic', options.topic, d.topic);
    this.fromBeginning = options.fromBeginning ?? d.fromBeginning;
    this.concurrency = positiveIntegerOption(
      'partitionsConsumedConcurrently',
      options.partitionsConsumedConcurrently,
      d.partitionsConsumedConcurrently,
    );
    this.sessionTimeoutMs = positiveIntegerOption(
      'sessionTimeoutMs',
      options.sessionTimeoutMs,
      d.sessionTimeoutMs,
    );
    const maxBytesPerPartition = positiveIntegerOption(
      'maxBytesPerPartition',
      options.maxBytesPerPartition,
      d.maxBytesPerPartition,
    );
    const maxBytes = positiveIntegerOption('maxBytes', options.maxBytes, d.maxBytes);
    const maxWaitTimeInMs = positiveIntegerOption(
      'maxWaitTimeMs',
      options.maxWaitTimeMs,
      d.maxWaitTimeMs,
    );
    this.logger = (options.logger ?? silentLogger()).child({ group: this.groupId });
    this.schemas = options.schemas ?? auditEventSchemas();
    this.consumer = options.kafka.consumer({
      groupId: this.groupId,
      sessionTimeout: this.sessionTimeoutMs,
      maxBytesPerPartition,
      maxBytes,
      maxWaitTimeInMs,
      allowAutoTopicCreation: false,
    });
  }

  async start(handler: RecordConsumer): Promise<void> {
    if (this.handler !== undefined)
      throw new AuditError(AuditErrorCode.InvalidState, 'GroupConsumer.start() was called twice');
    this.handler = handler;
    await this.consumer.connect().catch((error: unknown) => {
      throw this.coded(error, 'join the group on');
    });
    const { GROUP_JOIN, HEARTBEAT, REBALANCING, CRASH } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, (event) => {
      this.confirmedAt = Date.now();
      this.committed.clear(); // another member may have committed meanwhile
      const assigned = event.payload.memberAssignment[this.topic] ?? [];
      // errors surface in the first batch of the partition, which checks its state again
      handler
        .assigned(assigned)
        .catch((error: Error) =>
          this.logger.error({ err: error.message }, 'taking the assignment failed'),
        );
    });
    this.consumer.on(HEARTBEAT, () => (this.confirmedAt = Date.now()));
    this.consumer.on(REBALANCING, () => (this.confirmedAt = 0));
    this.consumer.on(CRASH, (event) => this.crashed(event.payload.error, event.payload.restart));
    await this.subscribeAndRun().catch((error: unknown) => {
      throw this.coded(error, 'subscribe to');
    });
  }

  /** A kafkajs failure as a coded AuditError naming the operation, topic, group and brokers. */
  private coded(error: unknown, operation: string): AuditError {
    return kafkaError(error, {
      operation,
      topic: this.topic,
      group: this.groupId,
      brokers: kafkaBrokers(this.kafka),
    });
  }

  private crashed(error: Error, restart: boolean): void {
    if (!restart && this.stopping === undefined && membershipLostType(error) !== undefined) {
      // kafkajs gives up on a member the group dropped (its batch outlived the session);
      // joining again is what the Java client does
      this.logger.warn({ err: error.message }, 'dropped by the group; joining again');
      retry(
        async () => {
          await this.consumer.connect();
          await this.subscribeAndRun();
        },
        { policy: RETRY_POLICIES.connect, isRetriable: () => this.stopping === undefined },
      ).catch((cause: Error) => this.failed(cause));
      return;
    }
    if (!restart && this.stopping !== undefined && membershipLostType(error) !== undefined) {
      // leaving the group anyway: a rebalance that dropped this member meanwhile is no fault
      this.logger.info({ err: error.message }, 'dropped by the group while stopping');
      return;
    }
    this.logger.error({ err: error.message, restart }, 'consumer crashed');
    const coded = this.coded(error, 'consume');
    if (isConfigurationFault(coded)) this.handler?.onFailure?.(coded);
    else if (!restart) this.failed(coded);
  }

  private failed(error: Error): void {
    this.handler?.onFailure?.(
      new AuditError(
        AuditErrorCode.Unavailable,
        `the Kafka consumer of ${this.topic} stopped: ${error.message}`,
        { cause: error },
      ),
    );
  }

  private async subscribeAndRun(): Promise<void> {
    await this.consumer.subscribe({ topics: [this.topic], fromBeginning: this.fromBeginning });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      // resolved is where fetching goes on; committed is what is done: the consumer tells both
      autoCommit: false,
      partitionsConsumedConcurrently: this.concurrency,
      eachBatch: (payload) => this.deliver(payload),
    });
  }

  private async deliver(payload: EachBatchPayload): Promise<void> {
    const { batch } = payload;
    const handler = this.handler as RecordConsumer;
    if (batch.messages.length === 0) return;
    const from = (await handler.startAt?.(batch.partition)) ?? 0;
    // below `from`: handled before (a refetch, a restart)
    const messages = batch.messages.filter((message) => Number(message.offset) >= from);
    // decoded and handed over a slice at a time, so that the events of a whole fetch (tens of
    // thousands a partition) are never decoded in memory at once
    for (let start = 0; start === 0 || start < messages.length; start += DELIVERY_SLICE) {
      const slice = messages.slice(start, start + DELIVERY_SLICE);
      const last = start + DELIVERY_SLICE >= messages.length;
      const records = slice.map((message) =>
        sourceRecord(this.schemas, {
          topic: batch.topic,
          partition: batch.partition,
          offset: Number(message.offset),
          timestamp: Number(message.timestamp),
          key: message.key,
          value: message.value,
          headers: message.headers ?? {},
        }),
      );
      const result = await handler.batch(records, {
        partition: batch.partition,
        lastOffset: last ? Number(batch.lastOffset()) : (records.at(-1) as SourceRecord).offset,
        heartbeat: () => this.heartbeatUnlessRevoked(payload, batch.partition),
        isActive: () => payload.isRunning() && !payload.isStale(),
      });
      this.stats.batches++;
      this.stats.records += records.length;
      if (result === undefined) break; // nothing handled: delivered again
      if ('seek' in result) {
        this.consumer.seek({
          topic: this.topic,
          partition: batch.partition,
          offset: String(result.seek),
        });
        return;
      }
      payload.resolveOffset(String(result.taken));
      if (
        result.done !== undefined &&
        !(await this.commitUnlessRevoked(batch.partition, result.done))
      )
        return; // kafkajs rejoins at its next heartbeat
      if (!payload.isRunning() || payload.isStale()) return;
    }
    await this.heartbeatUnlessRevoked(payload, batch.partition);
  }

  /**
   * Whether this member may still hold its assignment: the coordinator
   * confirmed it (join or heartbeat) within the session timeout and no
   * rebalance is under way. False after a pause (SIGSTOP, GC, frozen VM) longer
   * than the session, until the member has joined again. A hint that avoids
   * stale writes; the claims in the store are what fences them.
   */
  holdsAssignment(): boolean {
    return Date.now() - this.confirmedAt < this.sessionTimeoutMs;
  }

  /**
   * Fetches no more records; the batch being handled finishes. Between a
   * crash and kafkajs's restart of the consumer there is nothing to pause
   * (kafkajs throws): nothing is fetched then; what a restart before the stop
   * fetches reaches the handler, which decides (the archiver takes nothing
   * once it stops).
   */
  pause(): void {
    try {
      this.consumer.pause([{ topic: this.topic }]);
    } catch (error) {
      this.logger.debug(
        { err: (error as Error).message },
        'nothing to pause: the consumer is restarting',
      );
    }
  }

  /**
   * Commits `nextOffset` (the next offset to read) for a partition this member
   * holds, unless it or a later one is committed already: the commits of a
   * partition go one after the other, so that one sent later never lands
   * before an earlier one. The coordinator refuses it from a member of an
   * older generation.
   */
  commit(partition: number, nextOffset: number): Promise<void> {
    const run = (this.commits.get(partition) ?? Promise.resolve()).then(async () => {
      if ((this.committed.get(partition) ?? -1) >= nextOffset) return;
      await this.consumer.commitOffsets([
        { topic: this.topic, partition, offset: String(nextOffset) },
      ]);
      this.committed.set(partition, nextOffset);
    });
    this.commits.set(
      partition,
      run.catch(() => undefined), // the caller sees the error
    );
    return run;
  }

  /**
   * Commits after a batch; false when the coordinator refused because this
   * member lost its assignment meanwhile (a long write, a pause): the commit is
   * advisory (the new owner resumes from what is done), and kafkajs rejoins the
   * group at its next heartbeat. Thrown out of eachBatch, that refusal would
   * stop the consumer for good.
   */
  private async commitUnlessRevoked(partition: number, done: number): Promise<boolean> {
    const refused = await refusedForLostMembership(() => this.commit(partition, done + 1));
    if (refused === undefined) return true;
    this.confirmedAt = 0;
    this.logger.warn(
      { partition, type: refused },
      'commit refused: this member lost its assignment; rejoining',
    );
    return false;
  }

  /** A heartbeat; a refusal because this member lost its assignment is left to kafkajs's own next one. */
  private async heartbeatUnlessRevoked(
    payload: { heartbeat(): Promise<void> },
    partition: number,
  ): Promise<void> {
    const refused = await refusedForLostMembership(() => payload.heartbeat());
    if (refused === undefined) return;
    this.confirmedAt = 0;
    this.logger.warn(
      { partition, type: refused },
      'heartbeat refused: this member lost its assignment',
    );
  }

  /** The end of each partition that holds records the group has not committed. */
  async backlog(): Promise<Map<number, number>> {
    const { ends, committed } = await this.readOffsets(true);
    return new Map(
      [...ends].filter(([partition, high]) => high > 0 && (committed.get(partition) ?? -1) < high),
    );
  }

  /** The offset the group last committed for each partition (-1: none). */
  async committedOffsets(): Promise<Map<number, number>> {
    return (await this.readOffsets(false)).committed;
  }

  private async readOffsets(
    withEnds: boolean,
  ): Promise<{ ends: Map<number, number>; committed: Map<number, number> }> {
    const admin = this.kafka.admin();
    try {
      await admin.connect();
      const ends = withEnds ? await admin.fetchTopicOffsets(this.topic) : [];
      const committed = await admin.fetchOffsets({ groupId: this.groupId, topics: [this.topic] });
      return {
        ends: new Map(ends.map((p) => [p.partition, Number(p.high)])),
        committed: new Map(
          (committed[0]?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]),
        ),
      };
    } catch (error) {
      throw this.coded(error, 'read the offsets of');
    } finally {
      await admin.disconnect();
    }
  }

  /** Stops after the running batch, commits resolved offsets and leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= this.consumer.disconnect();
    return this.stopping;
  }
}
