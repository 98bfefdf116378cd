/**
 * Verifies the archive objects an export reads, one at a time, against the
 * signed digests that cover them, without reading the whole archive: for each
 * partition it lists the digest keys (they name their interval) and reads only
 * the digests from the object's key hour on, until one lists the object, one
 * already covers its offsets without listing it, or the digests end.
 *
 * An object verifies when a digest whose signature is valid, and which links
 * to the digest before it, lists the object with the SHA-256 of its bytes, its
 * header names the offsets its key names, and its hash-chain link is the
 * SHA-256 that the digests list for the object before it (when they are at
 * hand). An object after the partition's newest valid digest is pending while
 * that digest is within the grace period, a failure after it. The checks are
 * verify's (archiver/verify-checks.ts). Beside the objects read, an object
 * that the digests list under a key hour the export covers and that is gone
 * is a failure (`missing`); what a verified export does not prove is in
 * docs/export.md.
 */
import type { KeyObject } from 'node:crypto';
import { CHAIN_START, META } from '../archiver/archive-object.js';
import {
  classifyArchiveKey,
  parseArchiveKey,
  partitionId,
  type ParsedArchiveKey,
} from '../archiver/archive-key.js';
import {
  decodeDigest,
  type Digest,
  digestSignatureValid,
  parseDigestKey,
} from '../archiver/digest.js';
import {
  BAD_SIGNATURE_DETAIL,
  CHAIN_LINK_DETAIL,
  digestFresh,
  digestLinkProblem,
  headerOffsetsMatch,
  objectSha256,
  OFFSETS_DETAIL,
  uncoveredState,
} from '../archiver/verify-checks.js';
import type { ObjectStore } from '../object-store/object-store.js';
import type { PlanCoverage } from './export-plan.js';

export type ObjectCheck =
  { status: 'verified' } | { status: 'pending' } | { status: 'failed'; detail: string };

export interface ObjectVerifierOptions {
  prefix: string;
  publicKey: KeyObject;
  graceMs: number;
  now: number;
}

interface DigestKey {
  key: string;
  start: number;
  end: number;
}

interface LoadedDigest {
  digest?: Digest;
  /** Why the digest itself cannot be trusted (unreadable, bad signature); undefined when its signature holds. */
  problem?: string;
}

interface Listing {
  sha256: string;
  index: number;
}

class PartitionDigests {
  private readonly loaded = new Map<number, LoadedDigest>();
  /** Objects listed by the signature-valid digests read so far. */
  private readonly listings = new Map<string, Listing>();
  /** SHA-256 of listed objects by their last offset, for the hash-chain link of the next one. */
  private readonly byLastOffset = new Map<number, string>();

  constructor(
    private readonly store: ObjectStore,
    private readonly o: ObjectVerifierOptions,
    readonly id: string,
    private readonly keys: readonly DigestKey[],
  ) {}

  /** Reads digest `i` once: decoded and its signature checked. */
  private async load(i: number): Promise<LoadedDigest> {
    const cached = this.loaded.get(i);
    if (cached !== undefined) return cached;
    const { key } = this.keys[i] as DigestKey;
    let loaded: LoadedDigest;
    try {
      const digest = decodeDigest(key, await this.store.get(key));
      if (!digestSignatureValid(digest, this.o.publicKey))
        loaded = { problem: `${key}: ${BAD_SIGNATURE_DETAIL}` };
      else {
        loaded = { digest };
        for (const entry of digest.objects) {
          this.listings.set(entry.key, { sha256: entry.sha256, index: i });
          this.byLastOffset.set(entry.last_offset, entry.sha256);
        }
      }
    } catch (error) {
      loaded = { problem: `${key} cannot be read: ${(error as Error).message}` };
    }
    this.loaded.set(i, loaded);
    return loaded;
  }

  /**
   * Why digest `i` is not to be trusted, or undefined: its signature, and its
   * link to the digest before it (whose signature must hold too). The first
   * digest listed is not linked further, as verify does.
   */
  private async trustProblem(i: number): Promise<string | undefined> {
    const digest = await this.load(i);
    if (digest.problem !== undefined) return digest.problem;
    if (i === 0) return undefined;
    const previous = await this.load(i - 1);
    const key = (this.keys[i] as DigestKey).key;
    const previousKey = (this.keys[i - 1] as DigestKey).key;
    if (previous.digest === undefined)
      return `${key} links to ${previousKey}, which is not a valid digest (${previous.problem ?? ''})`;
    const broken = digestLinkProblem(digest.digest as Digest, {
      key: previousKey,
      digest: previous.digest,
    });
    return broken === undefined ? undefined : `${key} ${broken}`;
  }

  /** The digest that lists `object`, searched from its key hour on (and before it when a clock ran ahead). */
  private async find(object: ParsedArchiveKey & { key: string }): Promise<Listing | undefined> {
    const known = this.listings.get(object.key);
    if (known !== undefined) return known;
    const start = this.keys.findIndex((d) => d.end > object.hourStart);
    const first = start === -1 ? this.keys.length : start;
    let coveredSeen: number | undefined;
    for (let i = first; i < this.keys.length; i++) {
      const digest = (await this.load(i)).digest;
      const listing = this.listings.get(object.key);
      if (listing !== undefined) return listing;
      if (digest === undefined) continue;
      coveredSeen = Math.max(coveredSeen ?? -1, digest.covered_through_offset);
      // a digest that already covers the object's offsets without listing it: no later one will
      if (digest.covered_through_offset >= object.lastOffset) break;
    }
    // coverage only grows: when the digests read cover less than the object, earlier ones do too
    if (coveredSeen !== undefined && coveredSeen < object.firstOffset) return undefined;
    // a record time ahead of the writer's clock puts the object before its key hour
    for (let i = first - 1; i >= 0; i--) {
      const digest = (await this.load(i)).digest;
      const listing = this.listings.get(object.key);
      if (listing !== undefined) return listing;
      if (digest !== undefined && digest.covered_through_offset < object.firstOffset) break;
    }
    return undefined;
  }

  /**
   * The newest digest whose signature and link hold, and the problem of the
   * first digest after it that does not hold (it may be the one that listed
   * the object).
   */
  private async newestValid(): Promise<{
    valid?: { key: string; digest: Digest };
    newerProblem?: string;
  }> {
    let newerProblem: string | undefined;
    for (let i = this.keys.length - 1; i >= 0; i--) {
      const problem = await this.trustProblem(i);
      if (problem === undefined)
        return {
          valid: {
            key: (this.keys[i] as DigestKey).key,
            digest: (await this.load(i)).digest as Digest,
          },
          ...(newerProblem === undefined ? {} : { newerProblem }),
        };
      newerProblem = problem;
    }
    return newerProblem === undefined ? {} : { newerProblem };
  }

  /**
   * Objects that a valid digest lists under a key hour the plan covers but
   * that the plan's listing did not find: removed from the archive. Reads the
   * digests from the plan's lowest key hour on, and stops at the first digest
   * that lists only objects past its highest key hour (digests follow the
   * order of writing, which follows the order of the records).
   */
  async missing(coverage: PlanCoverage): Promise<{ key: string; detail: string }[]> {
    const lo = coverage.lowestKeyHour;
    const hi = coverage.highestKeyHour;
    const first = lo === undefined ? 0 : this.keys.findIndex((d) => d.end > lo);
    const found: { key: string; detail: string }[] = [];
    for (let i = first === -1 ? this.keys.length : first; i < this.keys.length; i++) {
      const { digest } = await this.load(i);
      if (digest === undefined) continue; // not trusted: it vouches for nothing
      let pastWindow = hi !== undefined && digest.objects.length > 0;
      for (const entry of digest.objects) {
        const listed = parseArchiveKey(entry.key);
        if (listed === undefined) continue;
        if (hi !== undefined && listed.hourStart <= hi) pastWindow = false;
        if (coverage.keyHourWanted(listed.hourStart) && !coverage.listed.has(entry.key))
          found.push({
            key: entry.key,
            detail: `${(this.keys[i] as DigestKey).key} lists it, but it is not in the archive`,
          });
      }
      if (pastWindow) break;
    }
    return found;
  }

  async check(
    object: ParsedArchiveKey & { key: string },
    bytes: Buffer,
    metadata: Record<string, string>,
  ): Promise<ObjectCheck> {
    if (!headerOffsetsMatch(metadata, object)) return { status: 'failed', detail: OFFSETS_DETAIL };
    if (this.keys.length === 0)
      return { status: 'failed', detail: `partition ${this.id} has no digest` };
    const listing = await this.find(object);
    if (listing === undefined) {
      const { valid: newest, newerProblem } = await this.newestValid();
      if (newerProblem !== undefined)
        return { status: 'failed', detail: `no valid digest lists it: ${newerProblem}` };
      if (newest === undefined)
        return { status: 'failed', detail: `partition ${this.id} has no valid digest` };
      const fresh = digestFresh(newest.digest.interval_end, this.o.now, this.o.graceMs);
      const state = uncoveredState(object.firstOffset, newest.digest.covered_through_offset, fresh);
      if (state === 'pending') return { status: 'pending' };
      if (state === 'not-covered') return { status: 'failed', detail: 'no valid digest lists it' };
      return {
        status: 'failed',
        detail: `after the last digest of ${this.id} (${newest.key}), which ended longer ago than the grace period of ${this.o.graceMs} ms`,
      };
    }
    const digestKey = (this.keys[listing.index] as DigestKey).key;
    const untrusted = await this.trustProblem(listing.index);
    if (untrusted !== undefined)
      return { status: 'failed', detail: `listed in a digest that does not verify: ${untrusted}` };
    const sha256 = objectSha256(bytes);
    if (sha256 !== listing.sha256)
      return {
        status: 'failed',
        detail: `SHA-256 is ${sha256}, ${digestKey} lists ${listing.sha256}`,
      };
    const previousSha =
      object.firstOffset === 0 ? CHAIN_START : this.byLastOffset.get(object.firstOffset - 1);
    if (previousSha !== undefined && metadata[META.prevObjectSha256] !== previousSha)
      return { status: 'failed', detail: CHAIN_LINK_DETAIL };
    return { status: 'verified' };
  }
}

/** One verifier for one export run: digests are read once per partition and kept while it lasts. */
export class ObjectVerifier {
  private readonly partitions = new Map<string, Promise<PartitionDigests>>();

  constructor(
    private readonly store: ObjectStore,
    private readonly o: ObjectVerifierOptions,
  ) {}

  private partition(topic: string, partition: number): Promise<PartitionDigests> {
    const id = partitionId(topic, partition);
    let digests = this.partitions.get(id);
    if (digests === undefined) {
      digests = this.listDigests(id, topic, partition);
      this.partitions.set(id, digests);
    }
    return digests;
  }

  private async listDigests(
    id: string,
    topic: string,
    partition: number,
  ): Promise<PartitionDigests> {
    const keys: DigestKey[] = [];
    for await (const key of this.store.list(`${this.o.prefix}/_digests/${topic}/${partition}/`)) {
      const kind = classifyArchiveKey(this.o.prefix, key);
      const parsed = parseDigestKey(key);
      if (
        kind.kind === 'digest' &&
        kind.topic === topic &&
        kind.partition === partition &&
        parsed !== undefined
      )
        keys.push({ key, start: parsed.start, end: parsed.end });
    }
    keys.sort((a, b) => a.start - b.start);
    return new PartitionDigests(this.store, this.o, id, keys);
  }

  /** Objects of the partitions (`topic/partition`) that the plan covers and the digests list, but that are gone. */
  async missing(
    coverage: PlanCoverage,
    partitions: Iterable<string>,
  ): Promise<{ key: string; detail: string }[]> {
    const found: { key: string; detail: string }[] = [];
    for (const id of partitions) {
      const slash = id.lastIndexOf('/');
      const partition = Number(id.slice(slash + 1));
      if (slash <= 0 || !Number.isSafeInteger(partition)) continue;
      found.push(
        ...(await (await this.partition(id.slice(0, slash), partition)).missing(coverage)),
      );
    }
    return found;
  }

  /** Checks one object read whole (`bytes`) with its decoded header `metadata`. */
  async check(
    object: ParsedArchiveKey & { key: string },
    bytes: Buffer,
    metadata: Record<string, string>,
  ): Promise<ObjectCheck> {
    const digests = await this.partition(object.topic, object.partition);
    return digests.check(object, bytes, metadata);
  }
}
