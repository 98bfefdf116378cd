/**
 * The consumer-group runtime every consumer shares (archiver, monitor, tests):
 *
 * - subscribes with its own group id and hands each partition batch to a handler;
 * - offsets are committed (explicitly, autoCommit off) only up to what the
 *   handler reports as durably done; the fetch position may run ahead of that
 *   over records the handler has taken into memory (`taken`), so that a batch
 *   held open across many fetches is not fetched again and again;
 * - records that do not decode (unknown schema fingerprint, bad bytes, or an
 *   event that breaks the validation rules) go to the dead-letter topic with the
 *   reason in a header, once, and their offsets are handed to the handler too
 *   (`context.deadLettered`), so that they are resolved like any other record;
 * - `stop()` (also on SIGTERM/SIGINT with `stopOnSignals`) lets the running
 *   batch finish, commits what is done and leaves the group.
 */
import kafkajs, { type Consumer, type Kafka, type KafkaMessage, type Producer } from 'kafkajs';
import type { Logger } from 'pino';
import { AuditError } from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { retry } from '../../common/retry.js';
import { validateRecord } from '../../schemas/validate.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas, type SchemaSet } from '../../schemas/schema-set.js';
import { decodeSingleObject } from '../../schemas/single-object.js';

/** Commit refusals that mean the member's generation is over, not that Kafka failed. */
const MEMBERSHIP_LOST = new Set([
  'REBALANCE_IN_PROGRESS',
  'UNKNOWN_MEMBER_ID',
  'ILLEGAL_GENERATION',
  'FENCED_INSTANCE_ID',
]);

/** Whether `error`, or what caused it, is one of the refusals in MEMBERSHIP_LOST. */
function membershipLost(error: unknown): boolean {
  for (let e = error as { type?: string; cause?: unknown } | undefined; e;) {
    if (e.type !== undefined && MEMBERSHIP_LOST.has(e.type)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

export const DLQ_HEADERS = {
  reason: 'dlq_reason',
  topic: 'dlq_source_topic',
  partition: 'dlq_source_partition',
  offset: 'dlq_source_offset',
} as const;

export interface ConsumedEvent {
  topic: string;
  partition: number;
  offset: number;
  /** The record's timestamp, ms since the epoch. */
  timestamp: number;
  key: string | null;
  /** The Avro single-object encoding as it was on the topic. */
  value: Buffer;
  event: AuditEventRecord;
}

export interface BatchContext {
  topic: string;
  partition: number;
  /** Last offset of the batch, dead letters included. */
  lastOffset: number;
  /** Records of this batch sent to the dead-letter topic, in offset order. */
  deadLettered: DeadLetteredRecord[];
  /** Keeps group membership during long work; call between chunks. */
  heartbeat(): Promise<void>;
  /** False once the consumer is stopping or the partition was reassigned. */
  isActive(): boolean;
}

/** A record that did not decode and went to the dead-letter topic. */
export interface DeadLetteredRecord {
  offset: number;
  timestamp: number;
}

/**
 * What a handler did with a batch: `done` is the highest offset whose side
 * effect is durable (committed), `taken` the highest offset it holds, done or
 * in memory (fetching goes on after it). Undefined `done`: nothing new to commit.
 */
export interface BatchProgress {
  done: number | undefined;
  taken: number;
}

/**
 * Handles the decodable events of one partition batch and makes its side effect
 * durable. Returns the highest offset that may be committed (everything at or
 * below it is done, and fetching goes on after it), a BatchProgress, or
 * undefined when nothing new is done: the runtime then resolves and commits
 * nothing for this batch, and fetches it again.
 */
export type BatchHandler = (
  events: ConsumedEvent[],
  context: BatchContext,
) => Promise<number | BatchProgress | undefined>;

export interface GroupConsumerOptions {
  kafka: Kafka;
  groupId: string;
  /** @defaultValue 'audit.events' */
  topic?: string;
  /** @defaultValue `${topic}.dlq` */
  dlqTopic?: string;
  handler: BatchHandler;
  /** Start from the oldest record when the group has no committed offset. @defaultValue true */
  fromBeginning?: boolean;
  /** Partitions handled at the same time. @defaultValue 1 */
  partitionsConsumedConcurrently?: number;
  /** @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** Upper bound of fetched bytes per partition, and so of one batch. @defaultValue 1 MiB */
  maxBytesPerPartition?: number;
  /**
   * The first offset of a partition this consumer has not handled yet: records
   * below it are neither dead-lettered again nor handed to the handler. Absent:
   * every fetched record is handled.
   */
  resumeAt?: (partition: number) => Promise<number>;
  /**
   * Called when the kafkajs consumer crashed; `restart` false means it will not
   * start again by itself (a non-retriable error): the process should stop.
   */
  onCrash?: (error: Error, restart: boolean) => void;
  /** Called for each partition newly assigned to this member, before its first batch. */
  onAssigned?: (partitions: { topic: string; partition: number }[]) => Promise<void>;
  logger?: Logger;
  schemas?: SchemaSet;
}

export interface ConsumerStats {
  batches: number;
  events: number;
  deadLetters: number;
}

export class GroupConsumer {
  readonly stats: ConsumerStats = { batches: 0, events: 0, deadLetters: 0 };
  readonly topic: string;
  readonly dlqTopic: string;
  private readonly options: GroupConsumerOptions;
  private readonly consumer: Consumer;
  private readonly dlqProducer: Producer;
  private readonly logger: Logger;
  private readonly schemas: SchemaSet;
  private stopping: Promise<void> | undefined;
  private removeSignalHandlers: (() => void) | undefined;
  /** The offsets this member last committed, so that an unchanged one is not sent again. */
  private readonly committed = new Map<number, number>();
  /** When the coordinator last confirmed this member (join or heartbeat); 0 while rebalancing. */
  private confirmedAt = 0;

  constructor(options: GroupConsumerOptions) {
    this.options = options;
    this.topic = options.topic ?? 'audit.events';
    this.dlqTopic = options.dlqTopic ?? `${this.topic}.dlq`;
    this.logger = (options.logger ?? silentLogger()).child({ group: options.groupId });
    this.schemas = options.schemas ?? auditEventSchemas();
    this.consumer = options.kafka.consumer({
      groupId: options.groupId,
      sessionTimeout: options.sessionTimeoutMs ?? 30_000,
      maxBytesPerPartition: options.maxBytesPerPartition ?? 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    this.dlqProducer = options.kafka.producer({
      idempotent: true,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: false,
      // murmur2 on the key, as the Java client does: one package, one partition
      createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
    });
  }

  async start(): Promise<void> {
    await this.dlqProducer.connect();
    await this.consumer.connect();
    const { GROUP_JOIN, HEARTBEAT, REBALANCING } = this.consumer.events;
    this.consumer.on(GROUP_JOIN, () => {
      this.confirmedAt = Date.now();
      this.committed.clear(); // another member may have committed meanwhile
    });
    this.consumer.on(HEARTBEAT, () => (this.confirmedAt = Date.now()));
    this.consumer.on(REBALANCING, () => (this.confirmedAt = 0));
    this.consumer.on(this.consumer.events.CRASH, (event) => {
      const { error, restart } = event.payload;
      if (!restart && this.stopping === undefined && membershipLost(error)) {
        // kafkajs gives up on a member the group dropped (its batch outlived the session);
        // joining again is what the Java client does
        this.logger.warn({ err: error.message }, 'dropped by the group; joining again');
        retry(
          async () => {
            await this.consumer.connect();
            await this.subscribeAndRun();
          },
          {
            attempts: 5,
            initialMs: 500,
            maxMs: 5000,
            isRetriable: () => this.stopping === undefined,
          },
        ).catch((cause: Error) => this.options.onCrash?.(cause, false));
        return;
      }
      this.logger.error({ err: error.message, restart }, 'consumer crashed');
      this.options.onCrash?.(error, restart);
    });
    if (this.options.onAssigned !== undefined) {
      const onAssigned = this.options.onAssigned;
      this.consumer.on(this.consumer.events.GROUP_JOIN, (event) => {
        const assigned = Object.entries(event.payload.memberAssignment).flatMap(
          ([topic, partitions]) => partitions.map((partition) => ({ topic, partition })),
        );
        // errors surface in the first batch of the partition, which re-checks its state
        onAssigned(assigned).catch((error: unknown) =>
          this.logger.error({ err: (error as Error).message }, 'onAssigned failed'),
        );
      });
    }
    await this.subscribeAndRun();
  }

  private async subscribeAndRun(): Promise<void> {
    await this.consumer.subscribe({
      topics: [this.topic],
      fromBeginning: this.options.fromBeginning ?? true,
    });
    await this.consumer.run({
      eachBatchAutoResolve: false,
      // resolved is where fetching goes on; committed is what is done: the handler tells both
      autoCommit: false,
      partitionsConsumedConcurrently: this.options.partitionsConsumedConcurrently ?? 1,
      eachBatch: async (payload) => {
        const { batch } = payload;
        if (batch.messages.length === 0) return;
        const from = (await this.options.resumeAt?.(batch.partition)) ?? 0;
        const events: ConsumedEvent[] = [];
        const deadLetters: { message: KafkaMessage; reason: string }[] = [];
        for (const message of batch.messages) {
          if (Number(message.offset) < from) continue; // handled before (a refetch, a restart)
          const decoded = this.decode(batch.topic, batch.partition, message);
          if ('reason' in decoded) deadLetters.push({ message, reason: decoded.reason });
          else events.push(decoded);
        }
        if (deadLetters.length > 0)
          await this.sendDeadLetters(batch.topic, batch.partition, deadLetters);
        const result = await this.options.handler(events, {
          topic: batch.topic,
          partition: batch.partition,
          lastOffset: Number(batch.lastOffset()),
          deadLettered: deadLetters.map(({ message }) => ({
            offset: Number(message.offset),
            timestamp: Number(message.timestamp),
          })),
          heartbeat: () => this.heartbeatUnlessRevoked(payload, batch.partition),
          isActive: () => payload.isRunning() && !payload.isStale(),
        });
        this.stats.batches++;
        this.stats.events += events.length;
        const progress = typeof result === 'number' ? { done: result, taken: result } : result;
        if (progress !== undefined) {
          payload.resolveOffset(String(progress.taken));
          if (
            progress.done !== undefined &&
            !(await this.commitUnlessRevoked(batch, progress.done))
          )
            return; // kafkajs rejoins at its next heartbeat
        }
        await this.heartbeatUnlessRevoked(payload, batch.partition);
      },
    });
  }

  /**
   * Whether this member may still hold its assignment: the coordinator
   * confirmed it (join or heartbeat) within the session timeout and no
   * rebalance is under way. False after a pause (SIGSTOP, GC, frozen VM) longer
   * than the session, until the member has joined again. A hint that avoids
   * stale writes; the claims in the store are what fences them.
   */
  holdsAssignment(): boolean {
    return Date.now() - this.confirmedAt < (this.options.sessionTimeoutMs ?? 30_000);
  }

  /** Fetches no more records; the batch being handled finishes. */
  pause(): void {
    this.consumer.pause([{ topic: this.topic }]);
  }

  /**
   * Commits `nextOffset` (the next offset to read) for a partition this member
   * holds, unless it is committed already. The coordinator refuses it from a
   * member of an older generation.
   */
  async commit(partition: number, nextOffset: number): Promise<void> {
    if (this.committed.get(partition) === nextOffset) return;
    await this.consumer.commitOffsets([
      { topic: this.topic, partition, offset: String(nextOffset) },
    ]);
    this.committed.set(partition, nextOffset);
  }

  /**
   * Commits after a batch; false when the coordinator refused because this
   * member lost its assignment meanwhile (a long write, a pause): the commit is
   * advisory (the new owner resumes from what is done), and kafkajs rejoins the
   * group at its next heartbeat. Thrown out of eachBatch, that refusal would
   * stop the consumer for good.
   */
  private async commitUnlessRevoked(
    batch: { topic: string; partition: number },
    done: number,
  ): Promise<boolean> {
    try {
      await this.commit(batch.partition, done + 1);
      return true;
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type === undefined || !MEMBERSHIP_LOST.has(type)) throw error;
      this.confirmedAt = 0;
      this.logger.warn(
        { partition: batch.partition, type },
        'commit refused: this member lost its assignment; rejoining',
      );
      return false;
    }
  }

  /** A heartbeat; a refusal because this member lost its assignment is left to kafkajs's own next one. */
  private async heartbeatUnlessRevoked(
    payload: { heartbeat(): Promise<void> },
    partition: number,
  ): Promise<void> {
    try {
      await payload.heartbeat();
    } catch (error) {
      const type = (error as { type?: string }).type;
      if (type === undefined || !MEMBERSHIP_LOST.has(type)) throw error;
      this.confirmedAt = 0;
      this.logger.warn({ partition, type }, 'heartbeat refused: this member lost its assignment');
    }
  }

  /** Fetching of `partition` goes on at `offset` (nothing is committed). */
  seek(partition: number, offset: number): void {
    this.consumer.seek({ topic: this.topic, partition, offset: String(offset) });
  }

  /** Stops after the running batch, commits resolved offsets and leaves the group. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.removeSignalHandlers?.();
      await this.consumer.disconnect();
      await this.dlqProducer.disconnect();
    })();
    return this.stopping;
  }

  /** Stops gracefully on SIGTERM and SIGINT; resolves the returned promise when stopped. */
  stopOnSignals(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onSignal = (signal: NodeJS.Signals): void => {
        this.logger.info({ signal }, 'stopping');
        this.stop().then(resolve, reject);
      };
      process.once('SIGTERM', onSignal);
      process.once('SIGINT', onSignal);
      this.removeSignalHandlers = () => {
        process.off('SIGTERM', onSignal);
        process.off('SIGINT', onSignal);
      };
    });
  }

  private decode(
    topic: string,
    partition: number,
    message: KafkaMessage,
  ): ConsumedEvent | { reason: string } {
    if (message.value === null) return { reason: 'DECODE_FAILED: empty record value' };
    try {
      const event = validateRecord(
        decodeSingleObject<AuditEventRecord>(this.schemas, message.value),
      );
      return {
        topic,
        partition,
        offset: Number(message.offset),
        timestamp: Number(message.timestamp),
        key: message.key === null ? null : message.key.toString('utf8'),
        value: message.value,
        event,
      };
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      return { reason: `${error.code}: ${error.message}` };
    }
  }

  private async sendDeadLetters(
    topic: string,
    partition: number,
    deadLetters: { message: KafkaMessage; reason: string }[],
  ): Promise<void> {
    await this.dlqProducer.send({
      topic: this.dlqTopic,
      acks: -1,
      messages: deadLetters.map(({ message, reason }) => ({
        key: message.key,
        value: message.value,
        timestamp: message.timestamp,
        headers: {
          ...message.headers,
          [DLQ_HEADERS.reason]: reason,
          [DLQ_HEADERS.topic]: topic,
          [DLQ_HEADERS.partition]: String(partition),
          [DLQ_HEADERS.offset]: message.offset,
        },
      })),
    });
    this.stats.deadLetters += deadLetters.length;
    for (const { message, reason } of deadLetters) {
      this.logger.warn(
        { topic, partition, offset: message.offset, reason },
        'record sent to the dead-letter topic',
      );
    }
  }
}
