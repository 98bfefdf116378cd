/**
 * Builds the bytes of one archive object (pure): an Avro container file of the
 * batch's events, whose metadata records where they came from and links the
 * object to its predecessor in the same partition (a hash chain).
 */
import { createHash } from 'node:crypto';
import type { ContainerCodec } from '../../schemas/container.js';
import {
  encodeContainerBlock,
  encodeContainerBlockAsync,
  encodeContainerHeader,
} from '../../schemas/container.js';
import type { KnownSchema } from '../../schemas/schema-set.js';
import { PackedBodies } from './packed-bodies.js';

/** The hash that links the first object of a partition. */
export const CHAIN_START = '0'.repeat(64);
/** Records per container block: small enough for a streaming reader, large enough to compress well. */
export const RECORDS_PER_BLOCK = 1000;

export const META = {
  topic: 'audit.topic',
  partition: 'audit.partition',
  firstOffset: 'audit.first_offset',
  lastOffset: 'audit.last_offset',
  count: 'audit.count',
  schemaFingerprint: 'audit.schema_fingerprint',
  eventsSha256: 'audit.events_sha256',
  prevObjectSha256: 'audit.prev_object_sha256',
} as const;

export interface ArchiveBatch {
  topic: string;
  partition: number;
  /** Offsets the batch covers; records skipped (dead letters, duplicates) still count toward the range. */
  firstOffset: number;
  lastOffset: number;
  /** Avro binary bodies of the events, in the schema `writer`, in offset order. */
  bodies: PackedBodies | readonly Buffer[];
  writer: KnownSchema;
  codec: ContainerCodec;
  /** SHA-256 (hex) of the previous object of this partition, or CHAIN_START. */
  prevObjectSha256: string;
  /** Header entries that summarise the events (object-summary.ts), after the ones above. */
  summary?: Record<string, string> | undefined;
}

export interface ArchiveObject {
  bytes: Buffer;
  /** SHA-256 (hex) of `bytes`: what the next object links to. */
  sha256: string;
  eventsSha256: string;
}

/** The SHA-256 of a batch's events: of their Avro bodies, each prefixed by its length (u32 BE). */
export function eventsDigest(bodies: Iterable<Buffer>): string {
  return PackedBodies.of(bodies).digest();
}

function packed(bodies: ArchiveBatch['bodies']): PackedBodies {
  return bodies instanceof PackedBodies ? bodies : PackedBodies.of(bodies);
}

/** Deterministic sync marker, so that a rebuilt batch has the same bytes. */
function syncMarker(batch: ArchiveBatch): Buffer {
  return createHash('sha256')
    .update(`${batch.topic}/${batch.partition}/${batch.firstOffset}`)
    .digest()
    .subarray(0, 16);
}

function encodeHeader(
  batch: ArchiveBatch,
  count: number,
  sync: Buffer,
  eventsSha256: string,
): Buffer {
  return encodeContainerHeader({
    schema: JSON.stringify(batch.writer.schema),
    codec: batch.codec,
    sync,
    metadata: {
      [META.topic]: batch.topic,
      [META.partition]: String(batch.partition),
      [META.firstOffset]: String(batch.firstOffset),
      [META.lastOffset]: String(batch.lastOffset),
      [META.count]: String(count),
      [META.schemaFingerprint]: batch.writer.fingerprintHex,
      [META.eventsSha256]: eventsSha256,
      [META.prevObjectSha256]: batch.prevObjectSha256,
      ...batch.summary,
    },
  });
}

/** The bodies in blocks of RECORDS_PER_BLOCK: each block's count and its bodies back to back. */
function blocksOf(bodies: PackedBodies): { count: number; raw: Buffer }[] {
  const blocks: { count: number; raw: Buffer }[] = [];
  for (let i = 0; i < bodies.count; i += RECORDS_PER_BLOCK) {
    const end = Math.min(i + RECORDS_PER_BLOCK, bodies.count);
    blocks.push({ count: end - i, raw: bodies.concat(i, end) });
  }
  return blocks;
}

function assembled(parts: readonly Buffer[], eventsSha256: string): ArchiveObject {
  const bytes = Buffer.concat(parts);
  return { bytes, sha256: createHash('sha256').update(bytes).digest('hex'), eventsSha256 };
}

/** The object's bytes, compressed on the event loop. */
export function buildArchiveObject(batch: ArchiveBatch): ArchiveObject {
  const sync = syncMarker(batch);
  const bodies = packed(batch.bodies);
  const eventsSha256 = bodies.digest();
  const blocks = blocksOf(bodies).map(({ count, raw }) =>
    encodeContainerBlock(count, raw, batch.codec, sync),
  );
  return assembled(
    [encodeHeader(batch, bodies.count, sync, eventsSha256), ...blocks],
    eventsSha256,
  );
}

/**
 * The same bytes as `buildArchiveObject`, with the blocks compressed in
 * libuv's thread pool (several at once), so that the event loop goes on
 * fetching and decoding meanwhile.
 */
export async function buildArchiveObjectAsync(batch: ArchiveBatch): Promise<ArchiveObject> {
  const sync = syncMarker(batch);
  const bodies = packed(batch.bodies);
  const eventsSha256 = bodies.digest();
  const blocks = await Promise.all(
    blocksOf(bodies).map(({ count, raw }) =>
      encodeContainerBlockAsync(count, raw, batch.codec, sync),
    ),
  );
  return assembled(
    [encodeHeader(batch, bodies.count, sync, eventsSha256), ...blocks],
    eventsSha256,
  );
}
