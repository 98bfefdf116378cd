/**
 * Archives one partition of the event log: accumulates its records into a batch,
 * writes each closed batch as one object under its deterministic key, and keeps
 * the hash chain. The archive itself is the record of progress: `resume()` finds
 * the last object of the partition and continues after it, so a restart neither
 * loses nor repeats a batch. Offsets below the resume point are skipped.
 * Records come decoded (decode-record.ts); one that did not decode has already
 * gone to the dead letters and only its offset is taken into the range.
 */
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { AuditErrorCode, AuditError, StorageError } from '../../common/errors.js';
import type { ContainerCodec } from '../../schemas/container.js';
import type { SchemaSet } from '../../schemas/schema-set.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { SourceRecord } from '../runtime/record-source.js';
import { archiveKeyFor } from './archive-key.js';
import { buildArchiveObject, CHAIN_START } from './archive-object.js';
import { hourOf, latePointerKey, ObjectSummaryBuilder } from './object-summary.js';
import { readArchiveEnd } from './archive-resume.js';
import { type BatchClaim, claimKeyFor, decodeClaim, encodeClaim } from './claim.js';
import { type BatchPolicy, rotationDue, type RotateReason } from './batch-policy.js';
import type { PartitionDigester } from './digester.js';
import { RecentIds } from './recent-ids.js';

export interface WrittenObject {
  key: string;
  sha256: string;
  firstOffset: number;
  lastOffset: number;
  /** Events in the object. */
  count: number;
  /** Records of its range dropped as duplicates, and dead letters in its range. */
  duplicates: number;
  deadLetters: number;
  reason: RotateReason | 'flush' | 'claim';
}

export interface PartitionArchiverOptions {
  store: ObjectStore;
  prefix: string;
  topic: string;
  partition: number;
  schemas: SchemaSet;
  policy: BatchPolicy;
  codec: ContainerCodec;
  /**
   * How many of the most recent event ids are remembered to drop duplicates
   * (a producer that resent an event after a crash gives it a new offset). The
   * window is reloaded from the archive on resume, so it holds across restarts.
   * @defaultValue 100000
   */
  dedupWindow?: number;
  /** Writes signed digests of the objects; none when absent. */
  digester?: PartitionDigester | undefined;
  /** Wraps each write to the store, e.g. to retry while the store is unavailable. */
  retryWrite?: <T>(write: () => Promise<T>) => Promise<T>;
  /** Clock, injectable for tests. */
  now?: () => number;
}

interface Batch {
  bodies: Buffer[];
  bytes: number;
  /** Records of the range dropped as duplicates, and those that went to the dead letters. */
  duplicates: number;
  deadLetters: number;
  firstOffset: number;
  lastOffset: number;
  firstRecordTime: number;
  openedAt: number;
  /** Event time range and packages, for the object's header; far event hours, for late pointers. */
  summary: ObjectSummaryBuilder;
}

export class PartitionArchiver {
  private readonly o: Required<Omit<PartitionArchiverOptions, 'digester'>> & {
    digester: PartitionDigester | undefined;
  };
  private batch: Batch | undefined;
  private prevSha256 = CHAIN_START;
  private next = 0;
  private resumed = false;
  /** A range claimed at the resume point whose object is missing: the next batch is exactly it. */
  private claimed: BatchClaim | undefined;
  /** Set once another writer won a claim: this archiver writes nothing more. */
  private fenced: StorageError | undefined;
  private readonly recentIds: RecentIds;
  /** Events dropped because their id was archived already. */
  duplicatesDropped = 0;
  /** Events taken into a batch (not skipped, not dead letters, not duplicates). */
  accepted = 0;

  constructor(options: PartitionArchiverOptions) {
    this.o = {
      ...options,
      now: options.now ?? Date.now,
      dedupWindow: options.dedupWindow ?? 100_000,
      retryWrite: options.retryWrite ?? ((write) => write()),
      digester: options.digester,
    };
    this.recentIds = new RecentIds(this.o.dedupWindow);
  }

  /** Reads the archive and returns the offset to consume from. */
  async resume(): Promise<number> {
    this.batch = undefined;
    const end = await readArchiveEnd(this.o.store, this.o, this.o.schemas, this.o.dedupWindow);
    this.prevSha256 = end.prevSha256;
    this.next = end.next;
    this.recentIds.reset(end.recentIds);
    this.claimed = await this.claimAt(this.next);
    const digester = this.o.digester;
    if (digester !== undefined) await this.o.retryWrite(() => digester.resume(end.objects));
    this.resumed = true;
    return this.next;
  }

  /** The claim of the batch that starts at `firstOffset`, if any. */
  private async claimAt(firstOffset: number): Promise<BatchClaim | undefined> {
    const key = claimKeyFor(this.o.prefix, this.o.topic, this.o.partition, firstOffset);
    try {
      return decodeClaim(key, await this.o.retryWrite(() => this.o.store.get(key)));
    } catch (error) {
      if (error instanceof AuditError && error.code === AuditErrorCode.NotFound) return undefined;
      throw error;
    }
  }

  /** The highest offset archived or taken into the open batch; -1 when none. */
  get accountedThrough(): number {
    return this.batch === undefined ? this.next - 1 : this.batch.lastOffset;
  }

  /** Everything below this offset is durably archived (or dead-lettered): safe to commit. */
  get archivedBelow(): number {
    return this.batch === undefined ? this.next : this.batch.firstOffset;
  }

  /**
   * Adds one record; writes the batch when it becomes full. Returns the object
   * written, if any. A dead letter (a record that did not decode) stays inside
   * the batch's range without an event, so that offsets stay contiguous.
   */
  async add(record: SourceRecord): Promise<WrittenObject | undefined> {
    if (record.offset < this.expectedOffset()) return undefined; // already archived, e.g. redelivered after a restart
    this.checkContiguous(record.offset);
    const decoded = record.decoded;
    if ('error' in decoded) return this.take(record, undefined, 'deadLetter');
    if (this.recentIds.has(decoded.event.id)) return this.take(record, undefined, 'duplicate');
    this.recentIds.remember(decoded.event.id);
    return this.take(record, decoded, 'event');
  }

  private expectedOffset(): number {
    if (!this.resumed)
      throw new AuditError(
        AuditErrorCode.InvalidState,
        'PartitionArchiver.resume() must be called first',
      );
    if (this.fenced !== undefined) throw this.fenced;
    return this.batch === undefined ? this.next : this.batch.lastOffset + 1;
  }

  /**
   * A record past the next expected offset means the source skipped records
   * (a consumer whose fetch position ran ahead of a fresh resume): covering the
   * skipped offsets would lose their events without a trace, so it is refused.
   * Only the very first record of an empty partition may start later (the
   * topic's oldest records were deleted before the archive began).
   */
  private checkContiguous(offset: number): void {
    const expected = this.expectedOffset();
    if (offset > expected && (this.next > 0 || this.batch !== undefined)) {
      throw new StorageError(
        AuditErrorCode.OffsetGap,
        `${this.o.topic}/${this.o.partition}: offset ${offset} came while ${expected} was expected; offsets ${expected}..${offset - 1} were not handed over`,
        { retriable: true },
      );
    }
  }

  private async take(
    record: { offset: number; timestamp: number },
    event: { event: AuditEventRecord; body: Buffer } | undefined,
    outcome: 'event' | 'duplicate' | 'deadLetter',
  ): Promise<WrittenObject | undefined> {
    this.batch ??= {
      bodies: [],
      bytes: 0,
      duplicates: 0,
      deadLetters: 0,
      firstOffset: this.next,
      lastOffset: record.offset,
      firstRecordTime: record.timestamp,
      openedAt: this.o.now(),
      summary: new ObjectSummaryBuilder(),
    };
    if (event !== undefined) {
      this.batch.bodies.push(event.body);
      this.batch.bytes += event.body.length;
      this.batch.summary.add(event.event);
      this.accepted++;
    }
    if (outcome === 'duplicate') {
      this.batch.duplicates++;
      this.duplicatesDropped++;
    }
    if (outcome === 'deadLetter') this.batch.deadLetters++;
    this.batch.lastOffset = record.offset;
    if (this.claimed !== undefined)
      return record.offset >= this.claimed.last_offset ? this.write('claim') : undefined;
    const reason = rotationDue(this.o.policy, this.openBatchState(), this.o.now());
    return reason === undefined || reason === 'age' ? undefined : this.write(reason);
  }

  /** A claimed range is written whole or not at all, so that its bytes are those of the claim. */
  private get claimIncomplete(): boolean {
    return (
      this.claimed !== undefined &&
      this.batch !== undefined &&
      this.batch.lastOffset < this.claimed.last_offset
    );
  }

  /** Writes the open batch if it has grown old, and the digests of intervals that have ended. */
  async writeIfDue(): Promise<WrittenObject | undefined> {
    const digester = this.o.digester;
    if (digester !== undefined) await this.o.retryWrite(() => digester.emitDue());
    if (this.batch === undefined || this.claimIncomplete) return undefined;
    const reason = rotationDue(this.o.policy, this.openBatchState(), this.o.now());
    return reason === undefined ? undefined : this.write(reason);
  }

  /** Ends the current digest interval now (a clean stop); the open batch must be flushed first. */
  async closeDigests(): Promise<void> {
    const digester = this.o.digester;
    if (digester !== undefined) await this.o.retryWrite(() => digester.close());
  }

  /** Writes the open batch now, whatever its size. */
  async flush(): Promise<WrittenObject | undefined> {
    // an incomplete claimed range stays unwritten and uncommitted: the next owner completes it
    return this.batch === undefined || this.claimIncomplete ? undefined : this.write('flush');
  }

  private openBatchState(): { events: number; bytes: number; openedAt: number } {
    const batch = this.batch as Batch;
    // a batch of dead letters only still counts as one event, so that age closes it
    return {
      events: Math.max(1, batch.bodies.length),
      bytes: batch.bytes,
      openedAt: batch.openedAt,
    };
  }

  private async write(reason: WrittenObject['reason']): Promise<WrittenObject> {
    const batch = this.batch as Batch;
    const object = buildArchiveObject({
      topic: this.o.topic,
      partition: this.o.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      bodies: batch.bodies,
      writer: this.o.schemas.reader,
      codec: this.o.codec,
      prevObjectSha256: this.prevSha256,
      summary: batch.summary.metadata(hourOf(batch.firstRecordTime)),
    });
    const key = archiveKeyFor({
      prefix: this.o.prefix,
      topic: this.o.topic,
      partition: this.o.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      firstRecordTime: batch.firstRecordTime,
    });
    await this.claim({
      first_offset: batch.firstOffset,
      last_offset: batch.lastOffset,
      key,
      sha256: object.sha256,
    });
    // late pointers before the object, so that no object is ever without its pointers
    for (const hour of batch.summary.farHours(hourOf(batch.firstRecordTime))) {
      const pointer = latePointerKey(this.o.prefix, hour, key);
      await this.o.retryWrite(() => this.o.store.put(pointer, Buffer.alloc(0)));
    }
    await this.o.retryWrite(() => this.o.store.put(key, object.bytes));
    const digester = this.o.digester;
    if (digester !== undefined) {
      await this.o.retryWrite(() => digester.emitDue()); // intervals that ended before this object
      digester.record(
        { key, firstOffset: batch.firstOffset, lastOffset: batch.lastOffset },
        object.sha256,
        batch.bodies.length,
      );
    }
    this.prevSha256 = object.sha256;
    this.next = batch.lastOffset + 1;
    this.batch = undefined;
    this.claimed = undefined;
    return {
      key,
      sha256: object.sha256,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      count: batch.bodies.length,
      duplicates: batch.duplicates,
      deadLetters: batch.deadLetters,
      reason,
    };
  }

  /**
   * Claims the batch's range before its object is written; throws FENCED
   * (and writes nothing from then on) when another writer claimed this start
   * with another range first.
   */
  private async claim(claim: BatchClaim): Promise<void> {
    const key = claimKeyFor(this.o.prefix, this.o.topic, this.o.partition, claim.first_offset);
    if (await this.o.retryWrite(() => this.o.store.putIfAbsent(key, encodeClaim(claim)))) return;
    const existing = decodeClaim(key, await this.o.retryWrite(() => this.o.store.get(key)));
    if (existing.last_offset === claim.last_offset) return; // a retry of this very batch
    this.batch = undefined;
    this.fenced = new StorageError(
      AuditErrorCode.Fenced,
      `${this.o.topic}/${this.o.partition}: offsets ${claim.first_offset}-${existing.last_offset} were claimed by another writer; ` +
        `this one (through ${claim.last_offset}) lost the partition and writes nothing`,
    );
    throw this.fenced;
  }
}
