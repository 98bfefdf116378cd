/**
 * Writes the signed digests of one partition: one per interval (default one
 * hour), empty intervals included, each listing the objects written in it and
 * linked to the previous digest. `close()` ends the current interval at once
 * (a clean stop), so that the next digest starts where it ended. After a crash
 * `resume()` finds the objects written since the last digest and lists them in
 * the next one.
 */
import { createHash, createPublicKey, type KeyObject } from 'node:crypto';
import { decodeContainerHeader } from '../../schemas/container.js';
import type { ObjectStore } from '../object-store/object-store.js';
import { META } from './archive-object.js';
import {
  decodeDigest,
  type Digest,
  type DigestObjectEntry,
  digestKeyFor,
  encodeDigest,
  intervalStart,
  parseDigestKey,
  publicKeySha256,
  signDigest,
} from './digest.js';
import type { ArchivedObjectRef } from './archive-key.js';

export interface DigesterOptions {
  store: ObjectStore;
  prefix: string;
  topic: string;
  partition: number;
  signingKey: KeyObject;
  /** @defaultValue 3600000 (one hour) */
  intervalMs?: number;
  now?: () => number;
}

export class PartitionDigester {
  private readonly o: Required<DigesterOptions>;
  private readonly keySha256: string;
  private previous: { key: string; signature: string } | undefined;
  private coveredThrough = -1;
  private start = 0;
  private entries: DigestObjectEntry[] = [];
  written = 0;

  constructor(options: DigesterOptions) {
    this.o = {
      ...options,
      intervalMs: options.intervalMs ?? 3_600_000,
      now: options.now ?? Date.now,
    };
    this.keySha256 = publicKeySha256(createPublicKey(options.signingKey));
  }

  /** Loads the last digest; objects after what it covers go into the next one. */
  async resume(objects: readonly ArchivedObjectRef[]): Promise<void> {
    let last: { key: string; end: number } | undefined;
    for await (const key of this.o.store.list(
      `${this.o.prefix}/_digests/${this.o.topic}/${this.o.partition}/`,
    )) {
      const parsed = parseDigestKey(key);
      if (parsed !== undefined && (last === undefined || parsed.end > last.end))
        last = { key, end: parsed.end };
    }
    this.entries = [];
    if (last === undefined) {
      this.previous = undefined;
      this.coveredThrough = -1;
      this.start = intervalStart(this.o.now(), this.o.intervalMs);
    } else {
      const digest = decodeDigest(last.key, await this.o.store.get(last.key));
      this.previous = { key: last.key, signature: digest.signature };
      this.coveredThrough = digest.covered_through_offset;
      this.start = last.end;
    }
    for (const object of objects) {
      if (object.lastOffset <= this.coveredThrough) continue;
      const bytes = await this.o.store.get(object.key);
      const count = Number(decodeContainerHeader(bytes).header.metadata[META.count] ?? -1);
      this.record(object, createHash('sha256').update(bytes).digest('hex'), count);
    }
  }

  /** Adds a written object to the current interval. */
  record(object: ArchivedObjectRef, sha256: string, count: number): void {
    this.entries.push({
      key: object.key,
      sha256,
      first_offset: object.firstOffset,
      last_offset: object.lastOffset,
      count,
    });
  }

  /** Writes the digests of every interval that has ended by now (empty ones too). */
  async emitDue(): Promise<void> {
    for (;;) {
      const end = intervalStart(this.start, this.o.intervalMs) + this.o.intervalMs;
      if (this.o.now() < end) return;
      await this.emit(end);
    }
  }

  /** Ends the current interval now (a clean stop) and writes its digest. */
  async close(): Promise<void> {
    await this.emitDue();
    const now = this.o.now();
    if (now > this.start) await this.emit(now);
  }

  private async emit(end: number): Promise<void> {
    const covered = this.entries.reduce(
      (max, e) => Math.max(max, e.last_offset),
      this.coveredThrough,
    );
    const key = digestKeyFor(this.o.prefix, this.o.topic, this.o.partition, this.start, end);
    const digest: Digest = signDigest(
      {
        version: 1,
        topic: this.o.topic,
        partition: this.o.partition,
        interval_start: new Date(this.start).toISOString(),
        interval_end: new Date(end).toISOString(),
        objects: this.entries,
        previous_digest_key: this.previous?.key ?? null,
        previous_digest_signature: this.previous?.signature ?? null,
        covered_through_offset: covered,
        public_key_sha256: this.keySha256,
      },
      this.o.signingKey,
    );
    await this.o.store.put(key, encodeDigest(digest));
    this.previous = { key, signature: digest.signature };
    this.coveredThrough = covered;
    this.start = end;
    this.entries = [];
    this.written++;
  }
}
