/**
 * Archives one partition of the event log: accumulates its records into a batch,
 * writes each closed batch as one object under its deterministic key, and keeps
 * the hash chain. The archive itself is the record of progress: `resume()` finds
 * the last object of the partition and continues after it, so a restart neither
 * loses nor repeats a batch. Offsets below the resume point are skipped.
 * Records come decoded (decode-record.ts); one that did not decode has already
 * gone to the dead letters and only its offset is taken into the range.
 *
 * Pipelining: a full batch is sealed (its range, key and place in the chain
 * fixed at once), then compressed in the thread pool and written to the store
 * while the partition takes the next records. Writes go to the store one after
 * the other, in offset order; at most `objectsInFlight` sealed objects wait or
 * write at a time, and sealing one more waits for the oldest (backpressure).
 * `archivedBelow` moves only past objects durably written; a write that fails
 * leaves this archiver broken (it writes nothing more; the owner resumes a new
 * one from the archive).
 */
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { AuditErrorCode, AuditError, StorageError } from '../../common/errors.js';
import type { ContainerCodec } from '../../schemas/container.js';
import type { SchemaSet } from '../../schemas/schema-set.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { SourceRecord } from '../runtime/record-source.js';
import { archiveKeyFor } from './archive-key.js';
import { type ArchiveObject, buildArchiveObjectAsync, CHAIN_START } from './archive-object.js';
import { hourOf, latePointerKey, ObjectSummaryBuilder } from './object-summary.js';
import { readArchiveEnd } from './archive-resume.js';
import { type BatchClaim, claimKeyFor, decodeClaim, encodeClaim } from './claim.js';
import { type BatchPolicy, rotationDue, type RotateReason } from './batch-policy.js';
import type { PartitionDigester } from './digester.js';
import { RecentIds } from './recent-ids.js';
import { PackedBodies } from './packed-bodies.js';

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
  /**
   * Sealed objects that may be compressing or writing while the partition
   * takes more records; sealing one more waits for the oldest to be written.
   * 0: each object is written before the call that filled it returns.
   * @defaultValue 0
   */
  objectsInFlight?: number;
  /** Told of each object once it is durably written, in offset order. */
  onWritten?: (object: WrittenObject) => void;
  /** Clock, injectable for tests. */
  now?: () => number;
}

/** A sealed object, compressing or writing. */
interface InFlight {
  firstOffset: number;
  written: Promise<WrittenObject>;
}

/** What writing a sealed object needs besides its bytes (not the bodies: they are freed once compressed). */
interface Sealed {
  key: string;
  firstOffset: number;
  lastOffset: number;
  count: number;
  duplicates: number;
  deadLetters: number;
  farHours: number[];
  reason: WrittenObject['reason'];
}

interface Batch {
  /** Copies of the events' bodies: the batch holds no view into a fetched buffer. */
  bodies: PackedBodies;
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
  private readonly o: Required<Omit<PartitionArchiverOptions, 'digester' | 'onWritten'>> & {
    digester: PartitionDigester | undefined;
    onWritten: ((object: WrittenObject) => void) | undefined;
  };
  private batch: Batch | undefined;
  /** The hash of the last object sealed, once built: what the next one links to. */
  private chain: Promise<string> = Promise.resolve(CHAIN_START);
  /** Sealed objects not yet written, oldest first. */
  private readonly inFlight: InFlight[] = [];
  /** The store writes (and digests), one after the other; never rejects. */
  private writes: Promise<void> = Promise.resolve();
  /** The failure of a sealed object's write: this archiver writes nothing more. */
  private broken: Error | undefined;
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
      objectsInFlight: options.objectsInFlight ?? 0,
      digester: options.digester,
      onWritten: options.onWritten,
    };
    this.recentIds = new RecentIds(this.o.dedupWindow);
  }

  /** Reads the archive and returns the offset to consume from. */
  async resume(): Promise<number> {
    this.batch = undefined;
    const end = await readArchiveEnd(this.o.store, this.o, this.o.schemas, this.o.dedupWindow);
    this.chain = Promise.resolve(end.prevSha256);
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
    const oldest = this.inFlight[0];
    if (oldest !== undefined) return oldest.firstOffset;
    return this.batch === undefined ? this.next : this.batch.firstOffset;
  }

  /** Whether a sealed object's write failed: this archiver writes nothing more. */
  get isBroken(): boolean {
    return this.broken !== undefined;
  }

  /** Sealed objects not yet written. */
  get objectsPending(): number {
    return this.inFlight.length;
  }

  /** Resolves once no sealed object is left to write (written or failed); never rejects. */
  settled(): Promise<void> {
    return this.writes;
  }

  /**
   * Adds one record; writes the batch when it becomes full. A dead letter (a
   * record that did not decode) stays inside the batch's range without an
   * event, so that offsets stay contiguous. Returns undefined when the record
   * was only taken, and otherwise the promise of the object written, if any,
   * which the caller awaits before adding more (it also waits for room among
   * the objects in flight): most records cost no promise. A record that cannot
   * be taken (out of order, fenced, broken) gives a rejected promise.
   */
  add(record: SourceRecord): Promise<WrittenObject | undefined> | undefined {
    try {
      if (record.offset < this.expectedOffset()) return undefined; // already archived, e.g. redelivered after a restart
      this.checkContiguous(record.offset);
      const decoded = record.decoded;
      if ('error' in decoded) return this.take(record, undefined, 'deadLetter');
      if (!this.recentIds.add(decoded.event.id)) return this.take(record, undefined, 'duplicate');
      return this.take(record, decoded, 'event');
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error))); // refused records fail the promise, as writes do
    }
  }

  private expectedOffset(): number {
    if (!this.resumed)
      throw new AuditError(
        AuditErrorCode.InvalidState,
        'PartitionArchiver.resume() must be called first',
      );
    if (this.fenced !== undefined) throw this.fenced;
    if (this.broken !== undefined) throw this.broken;
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

  private take(
    record: { offset: number; timestamp: number },
    event: { event: AuditEventRecord; body: Buffer } | undefined,
    outcome: 'event' | 'duplicate' | 'deadLetter',
  ): Promise<WrittenObject | undefined> | undefined {
    this.batch ??= {
      bodies: new PackedBodies(),
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
    if (digester !== undefined) await this.afterWrites(() => digester.emitDue());
    if (this.batch === undefined || this.claimIncomplete) return undefined;
    const reason = rotationDue(this.o.policy, this.openBatchState(), this.o.now());
    return reason === undefined ? undefined : this.write(reason);
  }

  /** Ends the current digest interval now (a clean stop); the open batch must be flushed first. */
  async closeDigests(): Promise<void> {
    const digester = this.o.digester;
    if (digester !== undefined) await this.afterWrites(() => digester.close());
  }

  /** Writes the open batch now, whatever its size, and waits for every sealed object to be written. */
  async flush(): Promise<WrittenObject | undefined> {
    // an incomplete claimed range stays unwritten and uncommitted: the next owner completes it
    const sealed =
      this.batch === undefined || this.claimIncomplete ? undefined : await this.seal('flush');
    await this.writes;
    if (this.broken !== undefined) throw this.broken;
    return sealed === undefined ? undefined : await sealed.written;
  }

  /** Runs `operation` (with the store retries) after the writes under way; throws if one failed. */
  private async afterWrites(operation: () => Promise<void>): Promise<void> {
    const run = this.writes.then(() => {
      if (this.broken !== undefined) throw this.broken;
      return this.o.retryWrite(operation);
    });
    this.writes = run.catch(() => undefined); // the caller sees the error
    await run;
  }

  private openBatchState(): { events: number; bytes: number; openedAt: number } {
    const batch = this.batch as Batch;
    // a batch of dead letters only still counts as one event, so that age closes it
    return {
      events: Math.max(1, batch.bodies.count),
      bytes: batch.bodies.bodyBytes,
      openedAt: batch.openedAt,
    };
  }

  /**
   * Seals the open batch into an object and starts writing it; the write is
   * awaited here only when no object may be in flight.
   */
  private async write(reason: WrittenObject['reason']): Promise<WrittenObject | undefined> {
    const { written } = await this.seal(reason);
    return this.o.objectsInFlight === 0 ? await written : undefined;
  }

  /**
   * Waits for room among the objects in flight, then seals the open batch: its
   * range and key are fixed, the partition goes on after it, and its bytes
   * (linked to the previous object's) are built in the thread pool. Resolves
   * with the promise of its write, which follows the writes before it.
   */
  private async seal(
    reason: WrittenObject['reason'],
  ): Promise<{ written: Promise<WrittenObject> }> {
    while (this.inFlight.length > 0 && this.inFlight.length >= this.o.objectsInFlight) {
      await (this.inFlight[0] as InFlight).written.catch(() => undefined); // the oldest is written, or failed
      if (this.broken !== undefined) throw this.broken;
    }
    return { written: this.sealNow(reason) };
  }

  private sealNow(reason: WrittenObject['reason']): Promise<WrittenObject> {
    const batch = this.batch as Batch;
    const keyHour = hourOf(batch.firstRecordTime);
    const sealed: Sealed = {
      key: archiveKeyFor({
        prefix: this.o.prefix,
        topic: this.o.topic,
        partition: this.o.partition,
        firstOffset: batch.firstOffset,
        lastOffset: batch.lastOffset,
        firstRecordTime: batch.firstRecordTime,
      }),
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      count: batch.bodies.count,
      duplicates: batch.duplicates,
      deadLetters: batch.deadLetters,
      farHours: batch.summary.farHours(keyHour),
      reason,
    };
    const summary = batch.summary.metadata(keyHour);
    const bodies = batch.bodies;
    const built = this.chain.then((prevObjectSha256) =>
      buildArchiveObjectAsync({
        topic: this.o.topic,
        partition: this.o.partition,
        firstOffset: sealed.firstOffset,
        lastOffset: sealed.lastOffset,
        bodies,
        writer: this.o.schemas.reader,
        codec: this.o.codec,
        prevObjectSha256,
        summary,
      }),
    );
    this.chain = built.then((object) => object.sha256);
    this.chain.catch(() => undefined); // a build that failed breaks the writes, which report it
    this.next = batch.lastOffset + 1;
    this.batch = undefined;
    this.claimed = undefined;
    const previous = this.writes;
    const written = Promise.all([built, previous]).then(([object]) => {
      if (this.broken !== undefined) throw this.broken;
      return this.store(sealed, object);
    });
    const entry: InFlight = { firstOffset: sealed.firstOffset, written };
    this.inFlight.push(entry);
    this.writes = written.then(
      (object) => {
        this.inFlight.splice(this.inFlight.indexOf(entry), 1);
        this.o.onWritten?.(object);
      },
      (error: unknown) => {
        this.broken ??=
          error instanceof Error
            ? error
            : new StorageError(
                AuditErrorCode.InvalidState,
                `object write failed: ${String(error)}`,
              );
      },
    );
    return written;
  }

  /** Claims the sealed range, writes its late pointers, the object and its digest record. */
  private async store(sealed: Sealed, object: ArchiveObject): Promise<WrittenObject> {
    const { key, firstOffset, lastOffset } = sealed;
    await this.claim({
      first_offset: firstOffset,
      last_offset: lastOffset,
      key,
      sha256: object.sha256,
    });
    // late pointers before the object, so that no object is ever without its pointers
    for (const hour of sealed.farHours) {
      const pointer = latePointerKey(this.o.prefix, hour, key);
      await this.o.retryWrite(() => this.o.store.put(pointer, Buffer.alloc(0)));
    }
    await this.o.retryWrite(() => this.o.store.put(key, object.bytes));
    const digester = this.o.digester;
    if (digester !== undefined) {
      await this.o.retryWrite(() => digester.emitDue()); // intervals that ended before this object
      digester.record({ key, firstOffset, lastOffset }, object.sha256, sealed.count);
    }
    return {
      key,
      sha256: object.sha256,
      firstOffset,
      lastOffset,
      count: sealed.count,
      duplicates: sealed.duplicates,
      deadLetters: sealed.deadLetters,
      reason: sealed.reason,
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
