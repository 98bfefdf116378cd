/**
 * One export's events: the archive objects the selection can touch, read one
 * at a time, filtered, with counts of what was listed, skipped and read, and
 * the verification of what was read. Every way to export (CLI, the exporter
 * group, the HTTP service) goes through here.
 */
import type { KeyObject } from 'node:crypto';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { readArchive } from './archive-reader.js';
import { matchesFilter, type EventFilter } from './filter.js';

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
  /** How old the newest digest of a partition may be. */
  graceMs?: number | undefined;
  /** Partitions (`topic/partition`) the archive must hold, when known. */
  expected?: readonly string[] | undefined;
  /** Stops the export: the records end with an AbortError. */
  signal?: AbortSignal | undefined;
  /** Called after each object is dealt with. */
  onProgress?: ((counts: Readonly<ExportCounts>) => void) | undefined;
}

export interface ExportRun {
  /** The matching events, object by object; iterate once. */
  records: AsyncIterable<AuditEventRecord>;
  /** Live counts; final once `records` has ended. */
  readonly counts: ExportCounts;
  /** Final once `records` has ended. */
  readonly verification: VerificationSummary;
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
  async function* records(): AsyncGenerator<AuditEventRecord> {
    for await (const record of readArchive(store, { prefix: options.prefix })) {
      options.signal?.throwIfAborted();
      if (!matchesFilter(record, options.filter)) continue;
      counts.eventsMatched++;
      yield record;
    }
  }
  return { records: records(), counts, verification };
}
