/**
 * One export's events: the archive objects the selection can touch, read one
 * at a time, filtered, with counts of what was listed, skipped and read, and
 * the verification of what was read. Every way to export (CLI, the exporter
 * group, the HTTP service) goes through here.
 */
import type { KeyObject } from 'node:crypto';
import { AuditError, AuditErrorCode, CodecError, StorageError } from '../../common/errors.js';
import { partitionId } from '../archiver/archive-key.js';
import { decodeContainerHeader, readContainerBatches } from '../../schemas/container.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { BATCH_ROWS, recordBatches, type RecordBatches } from '../../schemas/record-batches.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { parseObjectSummary } from '../archiver/object-summary.js';
import { DEFAULT_GRACE_MS } from '../archiver/verify.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { planExport, type PlannedObject } from './export-plan.js';
import { matchesFilter, type EventFilter } from './filter.js';
import { ObjectVerifier } from './object-verifier.js';

export interface ExportCounts {
  /** Archive object keys listed under the prefixes the selection can touch. */
  objectsListed: number;
  /** Of those, the ones the selection may need (by key hour and late pointers). */
  objectsSelected: number;
  /** Selected objects skipped by their header summary (time range, packages). */
  objectsSkipped: number;
  /** Objects read whole and decoded. */
  objectsRead: number;
  eventsMatched: number;
}

export interface VerificationSummary {
  /** False when no verify key is configured: nothing was checked. */
  configured: boolean;
  /** Objects read that a valid digest lists with their SHA-256 and whose hash-chain link holds. */
  verified: number;
  /** Objects read that are newer than the last digest of their partition (within the grace period). */
  pending: string[];
  /** Objects read that do not verify, each with the reason. */
  failed: { key: string; detail: string }[];
}

export interface ExportEventsOptions {
  /** Key prefix of the archive. */
  prefix: string;
  filter: EventFilter;
  /** Verify every object read against the digests signed by this key. */
  verifyKey?: KeyObject | undefined;
  /** Refuse (VERIFY_FAILED, naming the object) before yielding any event of an object that does not verify. */
  requireVerified?: boolean | undefined;
  /** How old the newest digest of a partition may be. @defaultValue DEFAULT_GRACE_MS */
  graceMs?: number | undefined;
  /** Partitions (`topic/partition`) the archive must hold, when known. */
  expected?: readonly string[] | undefined;
  /** Stops the export: the records end with an AbortError. */
  signal?: AbortSignal | undefined;
  /** Called after each object is dealt with. */
  onProgress?: ((counts: Readonly<ExportCounts>) => void) | undefined;
}

export interface ExportRun {
  /** The matching events, object by object; iterate once (record by record, or `batches()`). */
  records: RecordBatches;
  /** Live counts; final once `records` has ended. */
  readonly counts: ExportCounts;
  /** Final once `records` has ended. */
  readonly verification: VerificationSummary;
}

/** Bytes read first from each object: its header with the summary fits in far less. */
export const HEAD_BYTES = 64 * 1024;

/** True when the summary proves the object holds no event the filter keeps. */
function skippable(metadata: Record<string, string>, filter: EventFilter): boolean {
  const summary = parseObjectSummary(metadata);
  if (summary === undefined) return false;
  if (filter.from !== undefined && summary.maxTimestamp < filter.from) return true;
  if (filter.to !== undefined && summary.minTimestamp >= filter.to) return true;
  return filter.packageName !== undefined && !summary.mayHoldPackage(filter.packageName);
}

/** ARCHIVE_CORRUPT: an object that is not a readable container file. */
class UnreadableObject extends StorageError {
  constructor(
    readonly key: string,
    cause: unknown,
  ) {
    super(
      AuditErrorCode.ArchiveCorrupt,
      `archive object ${key} cannot be read: ${(cause as Error).message}`,
      { cause },
    );
    this.name = 'UnreadableObject';
  }
}

const unreadable = (key: string, cause: unknown): UnreadableObject =>
  new UnreadableObject(key, cause);

interface OpenedObject {
  metadata: Record<string, string>;
  /** The whole object when the first read already held all of it. */
  whole: Buffer | undefined;
}

/**
 * The object's header from its first HEAD_BYTES (all of it when the header is
 * longer); undefined when a late pointer named an object that is not there.
 */
async function openObject(
  store: ObjectStore,
  object: PlannedObject,
): Promise<OpenedObject | undefined> {
  let head: Buffer;
  try {
    head = await store.getHead(object.key, HEAD_BYTES);
  } catch (error) {
    if (
      object.onlyByPointer &&
      error instanceof AuditError &&
      error.code === AuditErrorCode.NotFound
    )
      return undefined;
    throw error;
  }
  const whole = head.length < HEAD_BYTES ? head : undefined;
  try {
    return { metadata: decodeContainerHeader(head).header.metadata, whole };
  } catch (error) {
    if (whole !== undefined) throw unreadable(object.key, error);
  }
  const bytes = await store.get(object.key);
  try {
    return { metadata: decodeContainerHeader(bytes).header.metadata, whole: bytes };
  } catch (error) {
    throw unreadable(object.key, error);
  }
}

export function exportEvents(store: ObjectStore, options: ExportEventsOptions): ExportRun {
  const counts: ExportCounts = {
    objectsListed: 0,
    objectsSelected: 0,
    objectsSkipped: 0,
    objectsRead: 0,
    eventsMatched: 0,
  };
  const verification: VerificationSummary = {
    configured: options.verifyKey !== undefined,
    verified: 0,
    pending: [],
    failed: [],
  };
  const { filter, signal } = options;
  const progress = (): void => options.onProgress?.(counts);
  const verifier =
    options.verifyKey === undefined
      ? undefined
      : new ObjectVerifier(store, {
          prefix: options.prefix,
          publicKey: options.verifyKey,
          graceMs: options.graceMs ?? DEFAULT_GRACE_MS,
          now: Date.now(),
        });

  /** Records a failed object; refuses it when verification is required. */
  function fail(key: string, detail: string): void {
    verification.failed.push({ key, detail });
    if (options.requireVerified === true)
      throw new AuditError(
        AuditErrorCode.VerifyFailed,
        `archive object ${key} does not verify: ${detail}`,
      );
  }

  async function verify(
    object: PlannedObject,
    bytes: Buffer,
    metadata: Record<string, string>,
  ): Promise<void> {
    if (verifier === undefined) return;
    const check = await verifier.check(object, bytes, metadata);
    if (check.status === 'verified') verification.verified++;
    else if (check.status === 'pending') verification.pending.push(object.key);
    else fail(object.key, check.detail);
  }

  /** An object that cannot be decoded: a verification failure when verifying, and the end of the export. */
  function corrupt(error: UnreadableObject): never {
    if (verifier !== undefined)
      fail(error.key, `not a readable container file: ${(error.cause as Error).message}`);
    throw error;
  }

  async function* batches(): AsyncGenerator<AuditEventRecord[]> {
    signal?.throwIfAborted();
    const schemas = auditEventSchemas();
    const plan = await planExport(
      store,
      {
        prefix: options.prefix,
        from: filter.from,
        to: filter.to,
        expected: options.expected,
        signal,
      },
      counts,
    );
    progress();
    if (verifier !== undefined) {
      // removed objects first, so that a required verification refuses before any event
      const partitions = new Set(options.expected ?? []);
      for (const object of plan.objects)
        partitions.add(partitionId(object.topic, object.partition));
      for (const gone of await verifier.missing(plan.coverage, partitions))
        fail(gone.key, gone.detail);
    }
    for (const object of plan.objects) {
      signal?.throwIfAborted();
      let opened: OpenedObject | undefined;
      try {
        opened = await openObject(store, object);
      } catch (error) {
        if (error instanceof UnreadableObject) corrupt(error);
        throw error;
      }
      if (opened === undefined) {
        // the pointer outlived its object, or was forged: verify reports it
        if (verifier !== undefined)
          fail(object.key, 'a late pointer names it, but it is not in the archive');
        counts.objectsSkipped++;
        progress();
        continue;
      }
      if (skippable(opened.metadata, filter)) {
        // its summary decided the skip: a required verification checks the object all the same
        if (options.requireVerified === true && verifier !== undefined) {
          const bytes = opened.whole ?? (await store.get(object.key));
          let metadata = opened.metadata;
          try {
            metadata = decodeContainerHeader(bytes).header.metadata;
          } catch (error) {
            corrupt(unreadable(object.key, error));
          }
          await verify(object, bytes, metadata);
        }
        counts.objectsSkipped++;
        progress();
        continue;
      }
      const bytes = opened.whole ?? (await store.get(object.key));
      counts.objectsRead++;
      // the header verified is that of the bytes read whole, not of the first read
      let metadata = opened.metadata;
      if (opened.whole === undefined) {
        try {
          metadata = decodeContainerHeader(bytes).header.metadata;
        } catch (error) {
          corrupt(unreadable(object.key, error));
        }
      }
      await verify(object, bytes, metadata);
      signal?.throwIfAborted();
      try {
        for (const batch of readContainerBatches<AuditEventRecord>(bytes, schemas, BATCH_ROWS)) {
          const matched = batch.filter((record) => matchesFilter(record, filter));
          if (matched.length === 0) continue;
          counts.eventsMatched += matched.length;
          yield matched;
        }
      } catch (error) {
        if (error instanceof CodecError) corrupt(unreadable(object.key, error));
        throw error;
      }
      progress();
    }
  }
  return { records: recordBatches(batches), counts, verification };
}
