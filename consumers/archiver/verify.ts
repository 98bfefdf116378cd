/**
 * Verification of the archive: digests first (signature, chain of digests,
 * listed objects present with the listed SHA-256), then objects (offset
 * continuity and the hash chain in each object's metadata).
 *
 * What it proves rests on things a writer to the bucket cannot forge or undo:
 * the signing key (digests), the set of partitions that must exist (from the
 * caller: the topic's partitions, the anchor), the clock (the newest digest of
 * each partition must be younger than the grace period; objects after it are
 * pending only within that period), and the anchor (the newest digest seen by
 * the previous run, kept outside the bucket), which must still be in the chain.
 * Every key under the prefix is classified strictly; anything that is not an
 * archive object, a digest or a claim is foreign. docs/archive.md has the
 * threat model.
 */
import type { KeyObject } from 'node:crypto';
import { AuditErrorCode, StorageError } from '../../common/errors.js';
import { decodeContainerHeader } from '../../schemas/container.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { META, CHAIN_START } from './archive-object.js';
import { ARCHIVER_DEFAULTS } from './archiver-options.js';
import { classifyArchiveKey, latePointerKey, partitionId } from './archive-key.js';
import { decodeDigest, type Digest, digestSignatureValid, parseDigestKey } from './digest.js';
import {
  BAD_SIGNATURE_DETAIL,
  CHAIN_LINK_DETAIL,
  digestFresh,
  digestLinkProblem,
  headerOffsetsMatch,
  objectSha256,
  OFFSETS_DETAIL,
  uncoveredState,
} from './verify-checks.js';
import { lateHoursOf, SUMMARY_META } from './object-summary.js';

export type ProblemKind =
  | 'modified'
  | 'missing'
  | 'reordered'
  | 'not-covered'
  | 'bad-signature'
  | 'broken-digest-chain'
  | 'unreadable'
  /** A key under the prefix that is no archive object, digest or claim (e.g. a nested copy). */
  | 'foreign'
  /** A partition in the archive that is not among the expected ones. */
  | 'foreign-partition'
  /** An expected partition without any valid digest. */
  | 'no-digests'
  /** The newest valid digest of a partition ended longer than the grace period ago. */
  | 'stale-digests'
  /** Objects after the last digest of a partition whose digests are stale. */
  | 'stale-pending'
  /** The digest the anchor names is no longer in the partition's chain (rollback, replacement). */
  | 'anchor-mismatch'
  /**
   * An object's header names an event hour far from its key hour, and the late
   * pointer for that hour is missing: a time-bounded export would miss its events.
   */
  | 'missing-late-pointer';

export interface Problem {
  kind: ProblemKind;
  /** The object or digest concerned. */
  key: string;
  detail: string;
}

/** The newest valid digest of a partition: what an anchor keeps. */
export interface AnchorEntry {
  digest_key: string;
  signature: string;
  interval_end: string;
  covered_through_offset: number;
}

/** Per partition (`topic/partition`), the newest valid digest seen by a run of verify. */
export type Anchor = Record<string, AnchorEntry>;

export interface VerifyReport {
  partitions: number;
  objects: number;
  digests: number;
  events: number;
  pending: string[];
  problems: Problem[];
  /** The newest valid digest of each partition, for the next anchor. */
  latest: Anchor;
  /** Archive objects that verify accepts (in range, not foreign), for an export to read. */
  accepted: string[];
}

/** The default grace period: two digest intervals of one hour and ten minutes. */
/**
 * How old the newest digest of a partition may be when the archiver writes one
 * every `digestIntervalMs`: two intervals (the one under way and the last
 * closed) and ten minutes for a slow store or a restart.
 */
export function verifyGraceFor(digestIntervalMs: number): number {
  return 2 * digestIntervalMs + 600_000;
}

export const DEFAULT_GRACE_MS = verifyGraceFor(ARCHIVER_DEFAULTS.digestIntervalMs);

export interface VerifyOptions {
  prefix: string;
  publicKey: KeyObject;
  /** Only digests whose interval ends after this time, and the objects they cover (ms). */
  from?: number | undefined;
  /** Only digests whose interval starts before this time (ms). */
  to?: number | undefined;
  /**
   * Partitions (`topic/partition`) that must exist; any other partition found is
   * foreign. When absent, the partitions found are taken as they are, and only
   * the anchor's must exist.
   */
  expected?: readonly string[] | undefined;
  /** How old the newest digest of a partition may be. @defaultValue DEFAULT_GRACE_MS */
  graceMs?: number | undefined;
  /** The anchor of the previous run: its digests must still be in the chains. */
  anchor?: Anchor | undefined;
  /** @defaultValue Date.now() */
  now?: number | undefined;
}

/** The anchor to keep after a run that found no problem. */
export function anchorFromReport(report: VerifyReport): Anchor {
  return { ...report.latest };
}

interface PartitionKeys {
  objects: { key: string; firstOffset: number; lastOffset: number }[];
  digests: { key: string; start: number; end: number }[];
}

async function collectKeys(
  store: ObjectStore,
  prefix: string,
  foreign: string[],
  latePointers: Set<string>,
): Promise<Map<string, PartitionKeys>> {
  const partitions = new Map<string, PartitionKeys>();
  const entry = (topic: string, partition: number): PartitionKeys => {
    const id = partitionId(topic, partition);
    let keys = partitions.get(id);
    if (keys === undefined) {
      keys = { objects: [], digests: [] };
      partitions.set(id, keys);
    }
    return keys;
  };
  for await (const key of store.list(`${prefix}/`)) {
    const kind = classifyArchiveKey(prefix, key);
    if (kind.kind === 'object') {
      entry(kind.object.topic, kind.object.partition).objects.push({
        key,
        firstOffset: kind.object.firstOffset,
        lastOffset: kind.object.lastOffset,
      });
    } else if (kind.kind === 'digest') {
      const digest = parseDigestKey(key);
      if (digest !== undefined)
        entry(kind.topic, kind.partition).digests.push({
          key,
          start: digest.start,
          end: digest.end,
        });
    } else if (kind.kind === 'late') latePointers.add(key);
    else if (kind.kind === 'foreign') foreign.push(key);
  }
  for (const keys of partitions.values()) {
    keys.objects.sort((a, b) => a.lastOffset - b.lastOffset || a.firstOffset - b.firstOffset);
    keys.digests.sort((a, b) => a.start - b.start);
  }
  return partitions;
}

export async function verifyArchive(
  store: ObjectStore,
  options: VerifyOptions,
): Promise<VerifyReport> {
  const report: VerifyReport = {
    partitions: 0,
    objects: 0,
    digests: 0,
    events: 0,
    pending: [],
    problems: [],
    latest: {},
    accepted: [],
  };
  const problem = (kind: ProblemKind, key: string, detail: string): void =>
    void report.problems.push({ kind, key, detail });
  const now = options.now ?? Date.now();
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const foreign: string[] = [];
  const latePointers = new Set<string>();
  const partitions = await collectKeys(store, options.prefix, foreign, latePointers);
  /** Late pointers that an object's header accounts for. */
  const expectedPointers = new Set<string>();
  for (const key of foreign)
    problem('foreign', key, 'not an archive object, digest or claim (copied, nested or forged)');
  const expected = new Set([...(options.expected ?? []), ...Object.keys(options.anchor ?? {})]);
  for (const id of expected) {
    if (!partitions.has(id))
      problem(
        'no-digests',
        `${options.prefix}/_digests/${id}/`,
        `partition ${id} is expected but has nothing in the archive`,
      );
  }
  for (const [id, keys] of partitions) {
    report.partitions++;
    if (options.expected !== undefined && !expected.has(id)) {
      problem(
        'foreign-partition',
        `${options.prefix}/.../${id}`,
        `partition ${id} is not one of the expected partitions (${[...expected].join(', ')})`,
      );
      continue;
    }
    /** Valid digests of the partition by key, for the anchor check. */
    const validDigests = new Map<string, string>();
    const present = new Set(keys.objects.map((o) => o.key));
    const covered = new Set<string>();
    /** The SHA-256 that a digest in range lists for an object; checked when the object is read, once. */
    const listed = new Map<string, { sha256: string; digest: string }>();
    let coveredThrough = -1;
    let previous: { key: string; digest: Digest } | undefined;
    for (const { key } of keys.digests) {
      let digest: Digest;
      try {
        digest = decodeDigest(key, await store.get(key));
      } catch (error) {
        problem('unreadable', key, (error as Error).message);
        previous = undefined;
        continue;
      }
      report.digests++;
      if (!digestSignatureValid(digest, options.publicKey)) {
        problem('bad-signature', key, BAD_SIGNATURE_DETAIL);
        previous = undefined;
        continue;
      }
      const broken = previous === undefined ? undefined : digestLinkProblem(digest, previous);
      if (broken !== undefined) {
        problem('broken-digest-chain', key, broken);
      } else if (
        previous === undefined &&
        digest.previous_digest_key !== null &&
        report.digests > 0 &&
        keys.digests[0]?.key !== key
      ) {
        problem(
          'broken-digest-chain',
          key,
          `links to ${digest.previous_digest_key}, which is not a valid digest here`,
        );
      }
      previous = { key, digest };
      validDigests.set(key, digest.signature);
      report.latest[id] = {
        digest_key: key,
        signature: digest.signature,
        interval_end: digest.interval_end,
        covered_through_offset: digest.covered_through_offset,
      };
      const inRange =
        (options.from === undefined || Date.parse(digest.interval_end) > options.from) &&
        (options.to === undefined || Date.parse(digest.interval_start) < options.to);
      for (const entry of digest.objects) {
        covered.add(entry.key);
        if (!inRange) continue;
        if (!present.has(entry.key)) {
          problem('missing', entry.key, `listed in ${key} but not in the archive`);
          continue;
        }
        listed.set(entry.key, { sha256: entry.sha256, digest: key });
      }
      coveredThrough = Math.max(coveredThrough, digest.covered_through_offset);
    }

    const latest = report.latest[id];
    const fresh = latest !== undefined && digestFresh(latest.interval_end, now, graceMs);
    if (latest === undefined) {
      problem(
        'no-digests',
        `${options.prefix}/_digests/${id}/`,
        `partition ${id} has no valid digest`,
      );
    } else if (!fresh) {
      problem(
        'stale-digests',
        latest.digest_key,
        `the newest valid digest of ${id} ended ${latest.interval_end}, longer ago than the grace period of ${graceMs} ms`,
      );
    }
    const anchored = options.anchor?.[id];
    if (anchored !== undefined && validDigests.get(anchored.digest_key) !== anchored.signature) {
      problem(
        'anchor-mismatch',
        anchored.digest_key,
        `the anchor's digest of ${id} (interval ending ${anchored.interval_end}) is not in the chain any more: rolled back or replaced`,
      );
    }

    let expectedFirst = 0;
    let previousSha = CHAIN_START;
    for (const object of keys.objects) {
      report.objects++;
      const problemsBefore = report.problems.length;
      let bytes: Buffer;
      try {
        bytes = await store.get(object.key);
      } catch (error) {
        const altered =
          error instanceof StorageError && error.code === AuditErrorCode.ArchiveCorrupt;
        problem(altered ? 'modified' : 'unreadable', object.key, (error as Error).message);
        continue;
      }
      if (object.firstOffset > expectedFirst) {
        problem(
          'missing',
          object.key,
          `offsets ${expectedFirst}..${object.firstOffset - 1} are in no object`,
        );
      } else if (object.firstOffset < expectedFirst) {
        problem(
          'reordered',
          object.key,
          `starts at offset ${object.firstOffset}, inside the object before it`,
        );
      }
      let metadata: Record<string, string>;
      try {
        metadata = decodeContainerHeader(bytes).header.metadata;
      } catch (error) {
        problem(
          'modified',
          object.key,
          `not a readable container file: ${(error as Error).message}`,
        );
        continue;
      }
      const sha256 = objectSha256(bytes);
      const expected = listed.get(object.key);
      if (expected !== undefined && expected.sha256 !== sha256) {
        problem(
          'modified',
          object.key,
          `SHA-256 is ${sha256}, ${expected.digest} lists ${expected.sha256}`,
        );
      }
      if (metadata[META.prevObjectSha256] !== previousSha) {
        problem('reordered', object.key, CHAIN_LINK_DETAIL);
      }
      if (!headerOffsetsMatch(metadata, object)) problem('modified', object.key, OFFSETS_DETAIL);
      for (const hour of lateHoursOf(metadata)) {
        if (Number.isNaN(hour)) {
          problem('modified', object.key, `its ${SUMMARY_META.lateHours} entry is not readable`);
          continue;
        }
        const pointer = latePointerKey(options.prefix, hour, object.key);
        expectedPointers.add(pointer);
        if (!latePointers.has(pointer))
          problem(
            'missing-late-pointer',
            pointer,
            `${object.key} holds events of ${new Date(hour).toISOString()} and this pointer to it is missing`,
          );
      }
      report.events += Number(metadata[META.count] ?? 0);
      if (!covered.has(object.key)) {
        const state = uncoveredState(object.firstOffset, coveredThrough, fresh);
        if (state === 'not-covered') problem('not-covered', object.key, 'no valid digest lists it');
        else if (state === 'pending') report.pending.push(object.key);
        else if (latest !== undefined)
          problem(
            'stale-pending',
            object.key,
            `after the last digest of ${id}, which ended longer ago than the grace period`,
          );
      }
      if (report.problems.length === problemsBefore) report.accepted.push(object.key);
      previousSha = sha256;
      expectedFirst = object.lastOffset + 1;
    }
  }
  for (const pointer of latePointers) {
    // a pointer no object accounts for: the bucket holds something the archiver did not write
    if (!expectedPointers.has(pointer))
      problem('foreign', pointer, 'a late pointer that no archive object accounts for');
  }
  return report;
}
