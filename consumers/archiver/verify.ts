/**
 * Verification of the archive: digests first (signature, chain of digests,
 * listed objects present with the listed SHA-256), then objects (offset
 * continuity and the hash chain in each object's metadata). Objects newer than
 * the last digest of their partition are pending, not failures: a running
 * archiver has not closed their interval yet.
 */
import { createHash, type KeyObject } from 'node:crypto';
import { AuditErrorCode, StorageError } from '../../common/errors.js';
import { decodeContainerHeader } from '../../schemas/container.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { META, CHAIN_START } from './archive-object.js';
import { parseArchiveKey } from './archive-key.js';
import { decodeDigest, type Digest, digestSignatureValid, parseDigestKey } from './digest.js';

export type ProblemKind =
  | 'modified'
  | 'missing'
  | 'reordered'
  | 'not-covered'
  | 'bad-signature'
  | 'broken-digest-chain'
  | 'unreadable';

export interface Problem {
  kind: ProblemKind;
  /** The object or digest concerned. */
  key: string;
  detail: string;
}

export interface VerifyReport {
  partitions: number;
  objects: number;
  digests: number;
  events: number;
  pending: string[];
  problems: Problem[];
}

export interface VerifyOptions {
  prefix: string;
  publicKey: KeyObject;
  /** Only digests whose interval ends after this time, and the objects they cover (ms). */
  from?: number | undefined;
  /** Only digests whose interval starts before this time (ms). */
  to?: number | undefined;
}

interface PartitionKeys {
  objects: { key: string; firstOffset: number; lastOffset: number }[];
  digests: { key: string; start: number; end: number }[];
}

async function collectKeys(
  store: ObjectStore,
  prefix: string,
): Promise<Map<string, PartitionKeys>> {
  const partitions = new Map<string, PartitionKeys>();
  const entry = (topic: string, partition: number): PartitionKeys => {
    const id = `${topic}/${partition}`;
    let keys = partitions.get(id);
    if (keys === undefined) {
      keys = { objects: [], digests: [] };
      partitions.set(id, keys);
    }
    return keys;
  };
  for await (const key of store.list(`${prefix}/`)) {
    const object = parseArchiveKey(key);
    if (object !== undefined && object.prefix === prefix) {
      entry(object.topic, object.partition).objects.push({
        key,
        firstOffset: object.firstOffset,
        lastOffset: object.lastOffset,
      });
      continue;
    }
    const digest = parseDigestKey(key);
    if (digest !== undefined && key.startsWith(`${prefix}/_digests/`))
      entry(digest.topic, digest.partition).digests.push({
        key,
        start: digest.start,
        end: digest.end,
      });
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
  };
  const problem = (kind: ProblemKind, key: string, detail: string): void =>
    void report.problems.push({ kind, key, detail });
  for (const keys of (await collectKeys(store, options.prefix)).values()) {
    report.partitions++;
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
        problem(
          'bad-signature',
          key,
          'the signature does not match the digest and the verification key (edited, or signed with another key)',
        );
        previous = undefined;
        continue;
      }
      if (previous !== undefined) {
        if (
          digest.previous_digest_key !== previous.key ||
          digest.previous_digest_signature !== previous.digest.signature
        ) {
          problem(
            'broken-digest-chain',
            key,
            `does not link to the digest before it (${previous.key})`,
          );
        } else if (digest.interval_start !== previous.digest.interval_end) {
          problem(
            'broken-digest-chain',
            key,
            `starts at ${digest.interval_start}, the previous digest ended at ${previous.digest.interval_end}`,
          );
        }
      } else if (
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

    let expectedFirst = 0;
    let previousSha = CHAIN_START;
    for (const object of keys.objects) {
      report.objects++;
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
      const sha256 = createHash('sha256').update(bytes).digest('hex');
      const expected = listed.get(object.key);
      if (expected !== undefined && expected.sha256 !== sha256) {
        problem(
          'modified',
          object.key,
          `SHA-256 is ${sha256}, ${expected.digest} lists ${expected.sha256}`,
        );
      }
      if (metadata[META.prevObjectSha256] !== previousSha) {
        problem('reordered', object.key, 'its hash-chain link does not match the object before it');
      }
      if (
        metadata[META.firstOffset] !== String(object.firstOffset) ||
        metadata[META.lastOffset] !== String(object.lastOffset)
      ) {
        problem('modified', object.key, 'its offsets do not match its key');
      }
      report.events += Number(metadata[META.count] ?? 0);
      if (!covered.has(object.key)) {
        if (object.firstOffset > coveredThrough) report.pending.push(object.key);
        else problem('not-covered', object.key, 'no valid digest lists it');
      }
      previousSha = sha256;
      expectedFirst = object.lastOffset + 1;
    }
  }
  return report;
}
