/**
 * Archives one partition of the event log: accumulates its records into a batch,
 * writes each closed batch as one object under its deterministic key, and keeps
 * the hash chain. The archive itself is the record of progress: `resume()` finds
 * the last object of the partition and continues after it, so a restart neither
 * loses nor repeats a batch. Offsets below the resume point are skipped.
 */
import { createHash } from 'node:crypto';
import { AuditErrorCode, AuditError, CodecError, StorageError } from '../../common/errors.js';
import { readContainerRecords, type ContainerCodec } from '../../schemas/container.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import type { SchemaSet } from '../../schemas/schema-set.js';
import {
  decodeSingleObject,
  SINGLE_OBJECT_HEADER_SIZE,
  singleObjectFingerprint,
} from '../../schemas/single-object.js';
import { validateRecord } from '../../schemas/validate.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { archiveKeyFor, type ArchivedObjectRef, classifyArchiveKey } from './archive-key.js';

export type { ArchivedObjectRef } from './archive-key.js';
import { buildArchiveObject, CHAIN_START } from './archive-object.js';
import { type BatchClaim, claimKeyFor, decodeClaim, encodeClaim } from './claim.js';
import { type BatchPolicy, rotationDue, type RotateReason } from './batch-policy.js';
import type { PartitionDigester } from './digester.js';

/** A record as a transport delivers it: Kafka's, or the local spool's. */
export interface SourceRecord {
  offset: number;
  /** The record's timestamp (append or create time), ms since the epoch. */
  timestamp: number;
  value: Buffer;
}

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

/** Receives a record that cannot be archived, with the reason; must be durable when it resolves. */
export type DeadLetterHandler = (record: SourceRecord, error: AuditError) => Promise<void>;

export interface PartitionArchiverOptions {
  store: ObjectStore;
  prefix: string;
  topic: string;
  partition: number;
  schemas: SchemaSet;
  policy: BatchPolicy;
  codec: ContainerCodec;
  deadLetter: DeadLetterHandler;
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
}

/** The archived objects of one partition, in offset order. */
export async function archivedObjects(
  store: ObjectStore,
  prefix: string,
  topic: string,
  partition: number,
): Promise<ArchivedObjectRef[]> {
  const objects: ArchivedObjectRef[] = [];
  for await (const key of store.list(`${prefix}/dt=`)) {
    // strictly as verify classifies keys: a planted copy under a nested key is not resumed from
    const kind = classifyArchiveKey(prefix, key);
    if (kind.kind !== 'object') continue;
    const parsed = kind.object;
    if (parsed.topic !== topic || parsed.partition !== partition) continue;
    objects.push({ key, firstOffset: parsed.firstOffset, lastOffset: parsed.lastOffset });
  }
  return objects.sort((a, b) => a.lastOffset - b.lastOffset);
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
  /** Recent event ids, oldest first (a Set keeps insertion order). */
  private readonly recentIds = new Set<string>();
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
  }

  private remember(id: string): void {
    this.recentIds.add(id);
    if (this.recentIds.size > this.o.dedupWindow) {
      const oldest = this.recentIds.values().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
  }

  /** Reads the archive and returns the offset to consume from. */
  async resume(): Promise<number> {
    this.batch = undefined;
    this.recentIds.clear();
    const objects = await archivedObjects(
      this.o.store,
      this.o.prefix,
      this.o.topic,
      this.o.partition,
    );
    const last = objects.at(-1);
    if (last === undefined) {
      this.prevSha256 = CHAIN_START;
      this.next = 0;
    } else {
      const bytes = await this.o.store.get(last.key);
      this.prevSha256 = createHash('sha256').update(bytes).digest('hex');
      this.next = last.lastOffset + 1;
      // the newest ids first, until the window is full; then remember them oldest first
      const idsNewestFirst: string[][] = [];
      let count = 0;
      for (let i = objects.length - 1; i >= 0 && count < this.o.dedupWindow; i--) {
        const object = objects[i] as ArchivedObjectRef;
        const content = i === objects.length - 1 ? bytes : await this.o.store.get(object.key);
        const ids = [...readContainerRecords<AuditEventRecord>(content, this.o.schemas)].map(
          (r) => r.id,
        );
        idsNewestFirst.push(ids);
        count += ids.length;
      }
      for (const ids of idsNewestFirst.reverse()) for (const id of ids) this.remember(id);
    }
    this.claimed = await this.claimAt(this.next);
    const digester = this.o.digester;
    if (digester !== undefined) await this.o.retryWrite(() => digester.resume(objects));
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
   * written, if any. A record that cannot be archived goes to the dead-letter
   * handler; its offset stays inside the batch's range, so offsets stay contiguous.
   */
  async add(record: SourceRecord): Promise<WrittenObject | undefined> {
    if (record.offset < this.expectedOffset()) return undefined; // already archived, e.g. redelivered after a restart
    this.checkContiguous(record.offset);
    let body: Buffer | undefined;
    let outcome: 'event' | 'duplicate' | 'deadLetter' = 'event';
    try {
      const decoded = this.decode(record.value);
      if (this.recentIds.has(decoded.id)) outcome = 'duplicate';
      else {
        body = decoded.body;
        this.remember(decoded.id);
      }
    } catch (error) {
      if (!(error instanceof AuditError)) throw error;
      await this.o.deadLetter(record, error);
      outcome = 'deadLetter';
    }
    return this.take(record, body, outcome);
  }

  /**
   * Takes the offset of a record that was dead-lettered before it reached this
   * archiver (Kafka's dead-letter topic) into the batch's range, so that
   * offsets stay contiguous and the record counts as handled.
   */
  async addDeadLettered(record: {
    offset: number;
    timestamp: number;
  }): Promise<WrittenObject | undefined> {
    if (record.offset < this.expectedOffset()) return undefined;
    this.checkContiguous(record.offset);
    return this.take(record, undefined, 'deadLetter');
  }

  private expectedOffset(): number {
    if (!this.resumed)
      throw new AuditError(
        AuditErrorCode.Closed,
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
    body: Buffer | undefined,
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
    };
    if (body !== undefined) {
      this.batch.bodies.push(body);
      this.batch.bytes += body.length;
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

  private decode(value: Buffer): { id: string; body: Buffer } {
    const record = decodeSingleObject<AuditEventRecord>(this.o.schemas, value);
    try {
      validateRecord(record);
    } catch (error) {
      throw new CodecError(
        AuditErrorCode.DecodeFailed,
        `decoded event is invalid: ${(error as Error).message}`,
        error,
      );
    }
    const sameSchema = singleObjectFingerprint(value) === this.o.schemas.reader.fingerprintHex;
    const body = sameSchema
      ? value.subarray(SINGLE_OBJECT_HEADER_SIZE)
      : this.o.schemas.reader.type.toBuffer(record);
    return { id: record.id, body };
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
