/**
 * The partitions an archiver holds: one PartitionArchiver each, resumed from
 * the archive before its first record, and a queue that serialises work on it
 * (batches, aged writes, stop).
 */
import type { Logger } from 'pino';
import { AuditErrorCode, isAuditError } from '../../common/errors.js';
import type { PartitionArchiver } from './partition-archiver.js';

interface PartitionSlot {
  archiver: PartitionArchiver;
  /** Resolves once the partition has been resumed from the archive. */
  ready: Promise<void>;
  /** Serialises work on the partition. */
  queue: Promise<unknown>;
}

export class ArchiverPartitions {
  /** The partitions being handled since the last assignment. */
  private slots = new Map<number, PartitionSlot>();
  /** Partitions of the current assignment, also those without a batch since: they get digests too. */
  private assigned: readonly number[] = [];
  /** Writes still under way by the archivers of the previous assignment, by partition. */
  private retiring = new Map<number, Promise<void>>();
  /** Partitions of the current assignment on which another writer won a claim. */
  private readonly fenced = new Set<number>();
  private readonly make: (partition: number) => PartitionArchiver;
  private readonly resume: (archiver: PartitionArchiver) => Promise<number>;
  private readonly logger: Logger;

  constructor(options: {
    make: (partition: number) => PartitionArchiver;
    /** Resumes an archiver from the archive (with the store retries). */
    resume: (archiver: PartitionArchiver) => Promise<number>;
    logger: Logger;
  }) {
    this.make = options.make;
    this.resume = options.resume;
    this.logger = options.logger;
  }

  /** A new assignment may hold partitions another member archived meanwhile: each resumes again. */
  assign(partitions: readonly number[]): void {
    // a partition assigned again resumes once the objects its previous archiver sealed are written
    this.retiring = new Map(
      [...this.slots].map(([partition, slot]) => [partition, slot.archiver.settled()]),
    );
    this.slots = new Map();
    this.fenced.clear();
    this.assigned = partitions;
  }

  /** Every partition assigned or handled since the last assignment. */
  all(): number[] {
    return [...new Set([...this.assigned, ...this.slots.keys()])];
  }

  /** Whether `partition` is this archiver's: in the current assignment or handled since. */
  holds(partition: number): boolean {
    return this.slots.has(partition) || this.assigned.includes(partition);
  }

  /** Whether another writer fenced this one out of `partition` since the last assignment. */
  isFenced(partition: number): boolean {
    return this.fenced.has(partition);
  }

  /** Partitions with an archiver since the last assignment. */
  handled(): number[] {
    return [...this.slots.keys()];
  }

  /**
   * The partition's archiver, resumed from the archive. Concurrent callers
   * share one resume; a resume that failed is tried again by the next call.
   */
  async get(partition: number): Promise<PartitionArchiver> {
    let slot = this.slots.get(partition);
    if (slot === undefined) {
      const archiver = this.make(partition);
      const retired = this.retiring.get(partition) ?? Promise.resolve();
      const ready = retired
        .then(() => this.resume(archiver))
        .then(
          (next) => this.logger.info({ partition, next }, 'partition resumed from the archive'),
          (error: Error) => {
            if (this.slots.get(partition) === slot) this.slots.delete(partition);
            this.logger.error({ partition, err: error.message }, 'cannot resume the partition');
            throw error;
          },
        );
      // set before the first await, so that concurrent callers share one resume
      slot = { archiver, ready, queue: ready };
      this.slots.set(partition, slot);
    }
    await slot.ready;
    return slot.archiver;
  }

  /** Runs `work` after the work already queued on the partition. */
  serialised<T>(partition: number, work: () => Promise<T>): Promise<T> {
    const slot = this.slots.get(partition);
    if (slot === undefined) return work();
    const result = slot.queue.then(work, work);
    slot.queue = result.catch(() => undefined); // the caller of `result` sees the error
    return result;
  }

  /**
   * Runs `work` on each of `partitions` in turn, after the work queued on it.
   * A partition another writer fenced this one out of is dropped (see
   * `droppedIfFenced`); other errors are thrown.
   */
  async forEach(
    partitions: readonly number[],
    work: (archiver: PartitionArchiver, partition: number) => Promise<void>,
  ): Promise<void> {
    for (const partition of partitions) {
      const archiver = await this.get(partition);
      await this.serialised(partition, () => work(archiver, partition)).catch((error: unknown) =>
        this.droppedIfFenced(partition, archiver, error),
      );
    }
  }

  /** Whether `archiver` is the one of `partition` now (not one of a previous assignment, nor dropped). */
  isCurrent(partition: number, archiver: PartitionArchiver): boolean {
    return this.slots.get(partition)?.archiver === archiver;
  }

  /**
   * As `droppedIfFenced`, and an archiver whose write failed (it writes
   * nothing more) is dropped too: the partition resumes from the archive at
   * its next batch. Other errors are thrown.
   */
  droppedIfFailed(partition: number, archiver: PartitionArchiver, error: unknown): undefined {
    if (!archiver.isBroken || (isAuditError(error) && error.code === AuditErrorCode.Fenced))
      return this.droppedIfFenced(partition, archiver, error);
    if (this.slots.get(partition)?.archiver === archiver) this.slots.delete(partition);
    this.logger.warn(
      { partition, err: (error as Error).message },
      'an object write failed: the partition resumes from the archive',
    );
    return undefined;
  }

  /**
   * A FENCED write means another writer claimed the batch first: this member
   * forgets the partition (its open batch is not committed) and, if it still
   * holds it, resumes from the archive at its next batch. Other errors are thrown.
   */
  droppedIfFenced(partition: number, archiver: PartitionArchiver, error: unknown): undefined {
    if (!isAuditError(error) || error.code !== AuditErrorCode.Fenced) throw error;
    if (this.slots.get(partition)?.archiver === archiver) this.slots.delete(partition);
    this.fenced.add(partition);
    this.logger.warn({ partition, err: error.message }, 'fenced: partition state dropped');
    return undefined;
  }
}
