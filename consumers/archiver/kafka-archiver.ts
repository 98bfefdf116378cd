/**
 * The archiver consumer group (`audit-archiver`): each partition of the events
 * topic goes through a PartitionArchiver into the object store. Offsets are
 * committed only up to the last object written, and every assignment resumes
 * from the archive itself, so neither a crash nor a rebalance can lose or
 * repeat a batch. Writes to the store that fail for a while (the store is
 * down) are retried with backoff until they succeed or the archiver stops.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { KeyObject } from 'node:crypto';
import type { Logger } from 'pino';
import {
  AuditError,
  AuditErrorCode,
  isAuditError,
  isConfigurationFault,
} from '../../common/errors.js';
import { silentLogger } from '../../common/logger.js';
import { backoffDelay } from '../../common/retry.js';
import type { ContainerCodec } from '../../schemas/container.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import {
  type BatchContext,
  type BatchProgress,
  type ConsumedEvent,
  type DeadLetteredRecord,
  GroupConsumer,
} from '../runtime/group-consumer.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { type BatchPolicy, batchPolicy } from './batch-policy.js';
import { PartitionDigester } from './digester.js';
import { PartitionArchiver, type SourceRecord, type WrittenObject } from './partition-archiver.js';
import { storeDeadLetters } from './spool-archiver.js';

export interface KafkaArchiverOptions {
  kafka: Kafka;
  store: ObjectStore;
  /** @defaultValue 'audit.events' */
  topic?: string;
  /** @defaultValue 'audit-archiver' */
  groupId?: string;
  /** @defaultValue 'events' */
  prefix?: string;
  batch?: Partial<BatchPolicy>;
  /** @defaultValue 'deflate' */
  codec?: ContainerCodec;
  /** See PartitionArchiver. @defaultValue 100000 */
  dedupWindow?: number;
  /** Consumer session timeout: how soon a crashed member's partitions move. @defaultValue 30000 */
  sessionTimeoutMs?: number;
  /** Ed25519 key that signs the digests; no digests without it. */
  signingKey?: KeyObject | undefined;
  /** Length of a digest interval. @defaultValue 3600000 (one hour) */
  digestIntervalMs?: number | undefined;
  logger?: Logger;
}

/** What this archiver wrote: counted per object written, so rebalances and restarts cannot skew it. */
export interface KafkaArchiveStats {
  /** Events in the objects written. */
  events: number;
  objects: number;
  /** Duplicates dropped and dead letters, in the ranges of the objects written. */
  duplicatesDropped: number;
  deadLetters: number;
}

interface PartitionState {
  archiver: PartitionArchiver;
  /** Resolves once the partition has been resumed from the archive. */
  ready: Promise<void>;
  /** Serialises work on the partition (batches, aged writes, stop). */
  queue: Promise<unknown>;
}

export class KafkaArchiver {
  readonly stats: KafkaArchiveStats = {
    events: 0,
    objects: 0,
    duplicatesDropped: 0,
    deadLetters: 0,
  };
  private readonly o: KafkaArchiverOptions & { topic: string; prefix: string };
  private readonly logger: Logger;
  private readonly policy: BatchPolicy;
  private readonly consumer: GroupConsumer;
  /** The partitions this member holds, each with its archiver and a queue that serialises work on it. */
  private partitions = new Map<number, PartitionState>();
  /** Partitions of the current assignment, also those without a batch since: they get digests too. */
  private assigned: number[] = [];
  /** Partitions of the current assignment on which another writer won a claim. */
  private fenced = new Set<number>();
  private agedRunning = false;
  private ageTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Aborted when stopping: wakes retry waits at once. */
  private readonly stopController = new AbortController();
  private failWith: (error: AuditError) => void = () => undefined;
  /**
   * Resolves with the first fault no retry can heal (a missing bucket, refused
   * credentials, a Kafka consumer that crashed for good); the process should
   * stop and report it. Never rejects.
   */
  readonly failed: Promise<AuditError> = new Promise((resolve) => (this.failWith = resolve));
  /** The fault `failed` resolved with, if any. */
  failure: AuditError | undefined;

  constructor(options: KafkaArchiverOptions) {
    this.o = {
      ...options,
      topic: options.topic ?? 'audit.events',
      prefix: options.prefix ?? 'events',
    };
    this.logger = options.logger ?? silentLogger();
    this.policy = batchPolicy(options.batch);
    this.consumer = new GroupConsumer({
      kafka: options.kafka,
      groupId: options.groupId ?? 'audit-archiver',
      topic: this.o.topic,
      sessionTimeoutMs: options.sessionTimeoutMs,
      logger: this.logger,
      onCrash: (error, restart) => {
        if (isConfigurationFault(error)) this.fail(error);
        else if (!restart)
          this.fail(
            new AuditError(
              AuditErrorCode.Unavailable,
              `the Kafka consumer of ${this.o.topic} stopped: ${error.message}`,
              { cause: error },
            ),
          );
      },
      // a new assignment may hold partitions another member archived meanwhile: resume them from the archive
      onAssigned: (assigned) => {
        this.partitions = new Map();
        this.fenced = new Set();
        this.assigned = assigned.filter((a) => a.topic === this.o.topic).map((a) => a.partition);
        return Promise.resolve();
      },
      // what is archived or in an open batch is not handed over (nor dead-lettered) again
      resumeAt: async (partition) =>
        (await this.partitionState(partition)).archiver.accountedThrough + 1,
      handler: (events, context) => this.handleBatch(events, context),
    });
  }

  /**
   * Takes a fetched batch into the partition's open batch, events and dead
   * letters in offset order, writing objects as batches fill. Fetching goes on
   * after everything taken; only what is in written objects is committed.
   */
  private async handleBatch(
    events: ConsumedEvent[],
    context: BatchContext,
  ): Promise<BatchProgress | undefined> {
    if (!context.isActive()) return undefined; // reassigned meanwhile: the new owner archives it
    const partition = context.partition;
    const state = await this.partitionState(partition);
    return this.serialised(partition, async () => {
      const records: (SourceRecord | DeadLetteredRecord)[] = [
        ...events.map((e) => ({ offset: e.offset, timestamp: e.timestamp, value: e.value })),
        ...context.deadLettered,
      ].sort((a, b) => a.offset - b.offset);
      let handled = 0;
      for (const record of records) {
        this.written(
          await ('value' in record
            ? state.archiver.add(record)
            : state.archiver.addDeadLettered(record)),
        );
        if (++handled % 1000 === 0) await context.heartbeat();
      }
      const below = state.archiver.archivedBelow;
      return { done: below > 0 ? below - 1 : undefined, taken: context.lastOffset };
    }).catch(async (error: unknown) => {
      if (isAuditError(error) && error.code === AuditErrorCode.OffsetGap) {
        // the fetch position ran ahead of this partition's state (a rebalance reset it): fetch again
        // from where the state ends, instead of covering offsets no record was handed over for
        this.logger.warn({ partition, err: error.message }, 'fetching again from the archive end');
      } else this.droppedIfFenced(partition, state, error);
      // fetching goes on where the archive (read again when fenced) ends
      const fresh = await this.partitionState(partition);
      this.consumer.seek(partition, fresh.archiver.accountedThrough + 1);
      return undefined;
    });
  }

  /**
   * Checks the store (a missing bucket or refused credentials fail here at
   * once; an unreachable store is retried until it answers or `stop()`), then
   * joins the group.
   */
  async start(): Promise<void> {
    await this.withStoreRetry(async () => {
      for await (const key of this.o.store.list(`${this.o.prefix}/`)) return key;
      return undefined;
    });
    if (this.stopping) return;
    await this.consumer.start();
    this.ageTimer = setInterval(
      () => void this.writeAgedBatches(),
      Math.min(1000, this.policy.maxAgeMs),
    ).unref();
  }

  /**
   * Stops fetching, writes every open batch and commits it, then leaves the
   * group: a clean stop leaves nothing read that is not archived. A batch that
   * was already fetched when fetching stopped is written by the second pass;
   * its offsets stay uncommitted, and the next start skips them by reading the
   * archive.
   */
  async stop(): Promise<KafkaArchiveStats> {
    this.requestStop();
    clearInterval(this.ageTimer);
    this.consumer.pause();
    // a member whose session lapsed (paused, cut off) writes nothing: its partitions may be another's now
    const holds = this.consumer.holdsAssignment();
    if (!holds)
      this.logger.warn('stopping without writing: the group has not confirmed this member');
    for (const [partition, state] of holds ? this.partitions : []) {
      await this.serialised(partition, async () => {
        this.written(await state.archiver.flush());
        // commit what the archive now holds, so that the next start does not read it again
        await this.consumer
          .commit(partition, state.archiver.archivedBelow)
          .catch((error: Error) =>
            this.logger.warn(
              { partition, err: error.message },
              'final commit failed; the archive still decides',
            ),
          );
      }).catch((error: unknown) => this.droppedIfFenced(partition, state, error));
    }
    await this.consumer.stop();
    // batches fetched before the pause took effect; then the digest interval closes, on
    // idle assigned partitions too, so that a stopped archiver leaves nothing unverifiable
    const finals = holds ? new Set([...this.assigned, ...this.partitions.keys()]) : [];
    for (const partition of finals) {
      if (this.fenced.has(partition)) continue; // another writer holds it
      const state = await this.partitionState(partition);
      await this.serialised(partition, async () => {
        this.written(await state.archiver.flush());
        await state.archiver.closeDigests();
      }).catch((error: unknown) => this.droppedIfFenced(partition, state, error));
    }
    return this.stats;
  }

  /**
   * The highest offset of a partition that is archived or in its open batch
   * (written at the latest by `stop()`), read from the archive when this member
   * has not handled the partition since its last assignment. For `--once`,
   * which runs as the only member of the group.
   */
  async accountedThrough(partition: number): Promise<number> {
    const state = await this.partitionState(partition);
    return this.serialised(partition, () => Promise.resolve(state.archiver.accountedThrough));
  }

  private async partitionState(partition: number): Promise<PartitionState> {
    let state = this.partitions.get(partition);
    if (state === undefined) {
      const archiver = new PartitionArchiver({
        store: this.o.store,
        prefix: this.o.prefix,
        topic: this.o.topic,
        partition,
        schemas: auditEventSchemas(),
        policy: this.policy,
        codec: this.o.codec ?? 'deflate',
        dedupWindow: this.o.dedupWindow,
        deadLetter: storeDeadLetters(this.o.store, this.o.prefix, this.o.topic, partition),
        digester:
          this.o.signingKey === undefined
            ? undefined
            : new PartitionDigester({
                store: this.o.store,
                prefix: this.o.prefix,
                topic: this.o.topic,
                partition,
                signingKey: this.o.signingKey,
                intervalMs: this.o.digestIntervalMs,
              }),
        retryWrite: (write) => this.withStoreRetry(write),
      });
      const ready = this.withStoreRetry(() => archiver.resume()).then((next) =>
        this.logger.info({ partition, next }, 'partition resumed from the archive'),
      );
      // set before the first await, so that concurrent callers share one resume
      state = { archiver, ready, queue: ready };
      this.partitions.set(partition, state);
    }
    await state.ready;
    return state;
  }

  private serialised<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const state = this.partitions.get(partition);
    if (state === undefined) return work();
    const result = state.queue.then(work, work);
    state.queue = result.catch(() => undefined);
    return result;
  }

  private async writeAgedBatches(): Promise<void> {
    if (this.agedRunning) return; // the previous round still waits, e.g. on the store
    this.agedRunning = true;
    try {
      await this.writeAgedBatchesOnce();
    } finally {
      this.agedRunning = false;
    }
  }

  private async writeAgedBatchesOnce(): Promise<void> {
    for (const partition of new Set([...this.assigned, ...this.partitions.keys()])) {
      // a member that was paused past its session may have lost its partitions: write nothing until it knows
      if (this.stopping || !this.consumer.holdsAssignment()) return;
      const state = await this.partitionState(partition).catch(() => undefined);
      if (state === undefined) continue;
      await this.serialised(partition, async () => this.written(await state.archiver.writeIfDue()))
        .catch((error: unknown) => this.droppedIfFenced(partition, state, error))
        .catch((error: Error) =>
          this.logger.error({ partition, err: error.message }, 'cannot write an aged batch'),
        );
    }
  }

  /**
   * A FENCED write means another writer claimed the batch first: this member
   * forgets the partition (its open batch is not committed) and, if it still
   * holds it, resumes from the archive at its next batch.
   */
  private droppedIfFenced(partition: number, state: PartitionState, error: unknown): undefined {
    if (!isAuditError(error) || error.code !== AuditErrorCode.Fenced) throw error;
    if (this.partitions.get(partition) === state) this.partitions.delete(partition);
    this.fenced.add(partition);
    this.logger.warn({ partition, err: error.message }, 'fenced: partition state dropped');
    return undefined;
  }

  private written(object: WrittenObject | undefined): void {
    if (object === undefined) return;
    this.stats.objects++;
    this.stats.events += object.count;
    this.stats.duplicatesDropped += object.duplicates;
    this.stats.deadLetters += object.deadLetters;
    this.logger.debug(
      { key: object.key, count: object.count, reason: object.reason },
      'archive object written',
    );
  }

  /**
   * Stops retrying: store operations under way give up after a few quick
   * attempts, so that `stop()` ends even with the store gone. `stop()` calls it.
   */
  requestStop(): void {
    this.stopping = true;
    this.stopController.abort();
  }

  private fail(error: AuditError): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    // the caller reports it (the command line in one coded line); the log only notes when
    this.logger.info({ code: error.code, err: error.message }, 'archiver cannot go on');
    this.failWith(error);
  }

  /**
   * Retries retriable store failures with backoff for as long as the archiver
   * runs (a few quick attempts once it stops). A configuration fault (missing
   * bucket, refused credentials) fails the archiver at once.
   */
  private async withStoreRetry<T>(operation: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await operation();
      } catch (error) {
        if (isConfigurationFault(error)) this.fail(error);
        if (!isAuditError(error) || !error.retriable || (this.stopping && attempt >= 3))
          throw error;
        const delay = backoffDelay(attempt, { initialMs: 200, maxMs: 5000, factor: 2 });
        if (attempt === 1 || attempt % 10 === 0) {
          this.logger.warn({ attempt, err: error.message }, 'object store unavailable, retrying');
        }
        await sleep(delay, undefined, { signal: this.stopController.signal }).catch(
          () => undefined,
        );
      }
    }
  }
}
