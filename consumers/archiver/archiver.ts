/**
 * The archiver stage, over any record source (a Kafka consumer group or the
 * local spool): each partition goes through a PartitionArchiver into the
 * object store, with its signed digests. Offsets are committed only up to the
 * last object written, and every assignment resumes from the archive itself,
 * so neither a crash nor a rebalance can lose or repeat a batch. Records that
 * do not decode go to the dead letters once and keep their offsets in the
 * ranges. Writes to the store that fail for a while (the store is down) are
 * retried with backoff until they succeed or the archiver stops.
 */
import type { Logger } from 'pino';
import { AuditErrorCode, isAuditError, isConfigurationFault } from '../../common/errors.js';
import { settledOrTimeout } from '../../common/abort.js';
import { silentLogger } from '../../common/logger.js';
import { RETRY_POLICIES, retry } from '../../common/retry.js';
import type { ObjectStore } from '../object-store/object-store.js';
import {
  type BatchContext,
  type BatchResult,
  type DeadLetter,
  type DeadLetterSink,
  isDeadLetter,
  type RecordConsumer,
  type RecordSource,
  type SourceRecord,
} from '../runtime/record-source.js';
import { type ArchiverOptions, type ArchiveStats, partitionArchivers } from './archiver-options.js';
import { ArchiverPartitions } from './archiver-partitions.js';
import type { BatchPolicy } from './batch-policy.js';
import type { PartitionArchiver, WrittenObject } from './partition-archiver.js';
import type { ArchiverMetrics } from './archiver-metrics.js';

export { ARCHIVER_DEFAULTS, type ArchiverOptions, type ArchiveStats } from './archiver-options.js';

/** A promise and the function that resolves it. */
function signal(): { promise: Promise<void>; resolve: () => void } {
  let resolve: () => void = () => undefined;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export class Archiver implements RecordConsumer {
  readonly stats: ArchiveStats = {
    records: 0,
    events: 0,
    objects: 0,
    duplicatesDropped: 0,
    deadLetters: 0,
  };
  readonly source: RecordSource;
  private readonly store: ObjectStore;
  private readonly deadLetters: DeadLetterSink;
  private readonly prefix: string;
  private readonly policy: BatchPolicy;
  private readonly logger: Logger;
  private readonly metrics: ArchiverMetrics | undefined;
  private readonly partitions: ArchiverPartitions;
  private agedRunning = false;
  private ageTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  /** Aborted when stopping: wakes retry waits at once. */
  private readonly stopController = new AbortController();
  /** Resolved (and replaced) after each batch and at a failure, for `catchUp`. */
  private progressed = signal();
  private failWith: (error: Error) => void = () => undefined;
  /** The group's committed offsets as last asked, for `catchUp`. */
  private committedCache: { at: number; offsets: Promise<Map<number, number>> } | undefined;
  /**
   * Resolves with the first fault no retry can heal (a missing bucket, refused
   * credentials, a source that stopped for good); the process should stop and
   * report it. Never rejects.
   */
  readonly failed: Promise<Error> = new Promise((resolve) => (this.failWith = resolve));
  /** The fault `failed` resolved with, if any. */
  failure: Error | undefined;

  constructor(options: ArchiverOptions) {
    this.source = options.source;
    this.store = options.store;
    this.deadLetters = options.deadLetters;
    this.logger = options.logger ?? silentLogger();
    this.metrics = options.metrics;
    this.metrics?.observe(this);
    const store = this.metrics?.meter(options.store) ?? options.store;
    const archivers = partitionArchivers(
      { ...options, store },
      {
        retryWrite: (write) => this.withStoreRetry(write),
        onWritten: (partition, archiver, object) => this.written(partition, archiver, object),
      },
    );
    this.prefix = archivers.prefix;
    this.policy = archivers.policy;
    this.partitions = new ArchiverPartitions({
      logger: this.logger,
      make: archivers.make,
      resume: (archiver) => this.withStoreRetry(() => archiver.resume()),
    });
  }

  /**
   * Checks the store (a missing bucket or refused credentials fail here at
   * once; an unreachable store is retried until it answers or `stop()`), then
   * starts the source.
   */
  async start(): Promise<void> {
    await this.withStoreRetry(async () => {
      for await (const key of this.store.list(`${this.prefix}/`)) return key;
      return undefined;
    });
    if (this.stopping) return;
    await this.source.start(this);
    this.ageTimer = setInterval(
      () => void this.writeAgedBatches(),
      Math.min(1000, this.policy.maxAgeMs),
    ).unref();
  }

  /** What the source holds now that its group has not committed: the goal of `catchUp`. */
  backlog(): Promise<Map<number, number>> {
    return this.source.backlog();
  }

  /**
   * Resolves true once every partition of `ends` is archived up to its end:
   * taken, then its open batch written while the source still runs, so that a
   * rebalance that drops an open batch before the stop has its records fetched
   * and written again instead of lost to the run. False when the archiver
   * failed or `signal` aborted first.
   */
  async catchUp(ends: ReadonlyMap<number, number>, signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (this.failure !== undefined || signal?.aborted === true) return false;
      if (await this.archivedUpTo(ends)) return true;
      if (
        (await this.accountedUpTo(ends)) &&
        (await this.writeOpenBatches(ends)) &&
        (await this.archivedUpTo(ends))
      )
        return true;
      // not a race with a sleep on `signal`: each pending sleep would keep a listener on it
      await settledOrTimeout(this.progressed.promise, 200, signal);
    }
  }

  /** Whether the partitions of `ends` this archiver holds are taken up to their ends. */
  private async accountedUpTo(ends: ReadonlyMap<number, number>): Promise<boolean> {
    for (const [partition, end] of ends)
      if (this.partitions.holds(partition) && (await this.accountedThrough(partition)) < end - 1)
        return false;
    return true;
  }

  /**
   * Whether every partition of `ends` is archived up to its end: by this
   * archiver where it holds the partition, and otherwise as far as the group
   * has committed (another member's commits follow its writes). Those are not
   * read from the archive here: a partition this archiver does not hold would
   * keep the end it had when first read, and the run would never end.
   */
  private async archivedUpTo(ends: ReadonlyMap<number, number>): Promise<boolean> {
    const elsewhere: number[] = [];
    for (const [partition, end] of ends) {
      if (!this.partitions.holds(partition)) elsewhere.push(partition);
      else if ((await this.partitions.get(partition)).archivedBelow < end) return false;
    }
    if (elsewhere.length === 0) return true;
    const committed = await this.groupCommitted();
    return elsewhere.every(
      (partition) => (committed.get(partition) ?? -1) >= (ends.get(partition) ?? 0),
    );
  }

  /** The group's committed offsets, asked of the source at most once a second. */
  private groupCommitted(): Promise<Map<number, number>> {
    const now = Date.now();
    if (this.committedCache === undefined || now - this.committedCache.at >= 1000) {
      // Kafka out of reach for a moment: not done yet, asked again a second later
      const offsets = (this.source.committedOffsets?.() ?? Promise.resolve(new Map())).catch(
        (error: Error) => {
          this.logger.debug({ err: error.message }, 'cannot read the committed offsets');
          return new Map<number, number>();
        },
      );
      this.committedCache = { at: now, offsets };
    }
    return this.committedCache.offsets;
  }

  /**
   * Writes the open batches of the partitions of `ends` this archiver handles;
   * false when it may not (stopping, or the group has not confirmed this
   * member). A write that fails after the store retries fails the archiver, as
   * it would at the stop.
   */
  private async writeOpenBatches(ends: ReadonlyMap<number, number>): Promise<boolean> {
    if (this.stopping || !this.source.holdsAssignment()) return false;
    const handled = this.partitions.handled().filter((partition) => ends.has(partition));
    await this.partitions
      .forEach(handled, async (archiver) => {
        await archiver.flush();
      })
      .catch((error: Error) => this.fail(error));
    return true;
  }

  /**
   * Archives what the source holds now, writes the open batches and stops:
   * what `archive --once` does. Throws the fault if the archiver failed.
   */
  async drain(): Promise<ArchiveStats> {
    const ends = await this.backlog();
    await this.start();
    await this.catchUp(ends);
    const stats = await this.stop();
    if (this.failure !== undefined) throw this.failure;
    return stats;
  }

  /**
   * Stops fetching and taking records, writes every open batch and commits it,
   * closes the digest intervals, then stops the source: a clean stop leaves
   * nothing taken that is not archived, and writes nothing once it has left the
   * group (the next owner of a partition continues its digest chain from the
   * digest this one closed). Records handed over once the stop began are not
   * taken: uncommitted, the next owner archives them.
   */
  async stop(): Promise<ArchiveStats> {
    this.requestStop();
    clearInterval(this.ageTimer);
    this.source.pause();
    // a member whose session lapsed (paused, cut off) writes nothing: its partitions may be another's now
    const holds = this.source.holdsAssignment();
    if (!holds)
      this.logger.warn('stopping without writing: the group has not confirmed this member');
    // idle assigned partitions too: their digest intervals close, so that a stopped archiver
    // leaves nothing unverifiable; a partition fenced meanwhile is another writer's
    const unfenced = this.partitions.all().filter((p) => !this.partitions.isFenced(p));
    const handled = new Set(this.partitions.handled());
    await this.partitions.forEach(holds ? unfenced : [], async (archiver, p) => {
      await archiver.flush();
      // commit what the archive now holds, so that the next start does not read it again
      if (handled.has(p))
        await this.source
          .commit(p, archiver.archivedBelow)
          .catch((error: Error) =>
            this.logger.warn(
              { partition: p, err: error.message },
              'final commit failed; the archive still decides',
            ),
          );
      if (this.source.holdsAssignment()) await archiver.closeDigests();
    });
    await this.source.stop();
    await this.deadLetters.close();
    return this.stats;
  }

  /**
   * The highest offset of a partition this archiver holds that is archived or
   * in its open batch, read from the archive when it has not handled the
   * partition since its last assignment. Only for partitions it holds: a slot
   * made for another member's partition would go stale.
   */
  private async accountedThrough(partition: number): Promise<number> {
    const archiver = await this.partitions.get(partition);
    return this.partitions.serialised(partition, () => Promise.resolve(archiver.accountedThrough));
  }

  /**
   * Per partition this archiver handles, the records on the source beyond
   * what it has archived (0 when it has archived everything there): the
   * consumer lag. Asks the source (for Kafka, a request to the broker). None
   * once stopping: the partitions are another member's then.
   */
  async lag(): Promise<Map<number, number>> {
    if (this.stopping) return new Map();
    const ends = await this.source.backlog();
    const lag = new Map<number, number>();
    for (const partition of this.partitions.handled()) {
      const archiver = await this.partitions.get(partition);
      const end = ends.get(partition) ?? archiver.archivedBelow;
      lag.set(partition, Math.max(0, end - archiver.archivedBelow));
    }
    return lag;
  }

  /**
   * Stops retrying: store operations under way give up after a few quick
   * attempts, so that `stop()` ends even with the store gone. `stop()` calls it.
   */
  requestStop(): void {
    this.stopping = true;
    this.stopController.abort();
  }

  // RecordConsumer: what the source calls

  assigned(partitions: readonly number[]): Promise<void> {
    this.partitions.assign(partitions);
    // each partition reads where the archive ends while its first fetch is under way, all at
    // once; a resume that fails is logged and tried again by the partition's first batch
    for (const partition of partitions) this.partitions.get(partition).catch(() => undefined);
    return Promise.resolve();
  }

  /** What is archived or in an open batch is not handed over (nor dead-lettered) again. */
  async startAt(partition: number): Promise<number> {
    return (await this.partitions.get(partition)).accountedThrough + 1;
  }

  /**
   * Takes a batch into the partition's open batch, in offset order, sending
   * dead letters first and writing objects as batches fill. Delivery goes on
   * after everything taken; only what is in written objects is committed.
   */
  async batch(
    records: readonly SourceRecord[],
    context: BatchContext,
  ): Promise<BatchResult | undefined> {
    // reassigned meanwhile, or stopping (its open batches are being written): the next owner archives it
    if (!context.isActive() || this.stopping) return undefined;
    const partition = context.partition;
    const archiver = await this.partitions.get(partition);
    return this.partitions
      .serialised(partition, async () => {
        if (this.stopping) return undefined; // queued behind the stop's final write of the partition
        const fresh = records.filter((r) => r.offset > archiver.accountedThrough);
        await this.sendDeadLetters(fresh.filter(isDeadLetter));
        for (const record of fresh) {
          const writing = archiver.add(record);
          if (writing !== undefined) await writing; // e.g. the partition has its most objects in flight
          if (++this.stats.records % 1000 === 0) await context.heartbeat();
        }
        const below = archiver.archivedBelow;
        return { done: below > 0 ? below - 1 : undefined, taken: context.lastOffset };
      })
      .catch(async (error: unknown) => {
        if (isAuditError(error) && error.code === AuditErrorCode.OffsetGap) {
          // the fetch position ran ahead of this partition's state (a rebalance reset it): fetch again
          // from where the state ends, instead of covering offsets no record was handed over for
          this.logger.warn(
            { partition, err: error.message },
            'fetching again from the archive end',
          );
        } else this.partitions.droppedIfFailed(partition, archiver, error);
        // delivery goes on where the archive (read again when fenced) ends
        return { seek: (await this.partitions.get(partition)).accountedThrough + 1 };
      })
      .finally(() => this.wakeCatchUp());
  }

  onFailure(error: Error): void {
    this.fail(error);
  }

  private wakeCatchUp(): void {
    this.progressed.resolve();
    this.progressed = signal();
  }

  private async sendDeadLetters(records: readonly DeadLetter[]): Promise<void> {
    if (records.length === 0) return;
    await this.withStoreRetry(() => this.deadLetters.send(records));
    for (const { topic, partition, offset, decoded } of records)
      this.logger.warn(
        { topic, partition, offset, reason: decoded.error.message, to: this.deadLetters.target },
        'record sent to the dead letters',
      );
  }

  private async writeAgedBatches(): Promise<void> {
    if (this.agedRunning) return; // the previous round still waits, e.g. on the store
    this.agedRunning = true;
    try {
      for (const partition of this.partitions.all()) {
        // a member that was paused past its session may have lost its partitions: write nothing until it knows
        if (this.stopping || !this.source.holdsAssignment()) return;
        await this.partitions
          .forEach([partition], async (archiver) => {
            await archiver.writeIfDue();
          })
          .catch((error: Error) =>
            this.logger.error({ partition, err: error.message }, 'cannot write an aged batch'),
          );
      }
    } finally {
      this.agedRunning = false;
    }
  }

  /**
   * An object is written: counted, and its offsets committed (in order: the
   * partition's writes are) unless the partition was reassigned meanwhile or
   * the group has not confirmed this member.
   */
  private written(partition: number, archiver: PartitionArchiver, object: WrittenObject): void {
    if (this.partitions.isCurrent(partition, archiver) && this.source.holdsAssignment())
      this.source
        .commit(partition, archiver.archivedBelow)
        .catch((error: Error) =>
          this.logger.warn(
            { partition, err: error.message },
            'commit after a write failed; the next one covers it',
          ),
        );
    this.stats.objects++;
    this.stats.events += object.count;
    this.stats.duplicatesDropped += object.duplicates;
    this.stats.deadLetters += object.deadLetters;
    this.metrics?.objectWritten(object.count);
    this.logger.debug(
      { key: object.key, count: object.count, reason: object.reason },
      'archive object written',
    );
  }

  private fail(error: Error): void {
    if (this.failure !== undefined) return;
    this.failure = error;
    // the caller reports it (the command line in one coded line); the log only notes when
    this.logger.info(
      { code: isAuditError(error) ? error.code : undefined, err: error.message },
      'archiver cannot go on',
    );
    this.failWith(error);
    this.wakeCatchUp();
  }

  /**
   * Retries retriable store failures under RETRY_POLICIES.storeWrite for as
   * long as the archiver runs; once it stops (which cuts the wait short), a
   * few quick attempts under storeWriteStopping. A configuration fault
   * (missing bucket, refused credentials) fails the archiver at once.
   */
  private async withStoreRetry<T>(operation: () => Promise<T>): Promise<T> {
    const isRetriable = (error: unknown): boolean => {
      if (isConfigurationFault(error)) this.fail(error);
      return isAuditError(error) && error.retriable;
    };
    const onRetry = (error: unknown, attempt: number): void => {
      this.metrics?.storeRetried();
      if (attempt === 1 || attempt % 10 === 0)
        this.logger.warn(
          { attempt, err: (error as Error).message },
          'object store unavailable, retrying',
        );
    };
    const signal = this.stopController.signal;
    if (!signal.aborted) {
      try {
        return await retry(operation, {
          policy: RETRY_POLICIES.storeWrite,
          isRetriable,
          onRetry,
          signal,
        });
      } catch (error) {
        // only the stop ends these retries early (with the last failure); the quick ones below go on
        if (!signal.aborted) throw error;
      }
    }
    return retry(operation, { policy: RETRY_POLICIES.storeWriteStopping, isRetriable, onRetry });
  }
}
