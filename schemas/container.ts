/**
 * Avro object container files (specification, "Object Container Files"):
 * a header (magic `Obj\x01`, metadata map, 16-byte sync marker) followed by
 * blocks of (count, byte size, compressed records, sync marker).
 *
 * Pure: bytes in, bytes out. Supported codecs are `null` and `deflate`
 * (raw DEFLATE, RFC 1951, as the specification requires). A block is encoded
 * on the event loop (`encodeContainerBlock`) or with its compression in libuv's
 * thread pool (`encodeContainerBlockAsync`): the same bytes either way.
 */
import { promisify } from 'node:util';
import { deflateRaw, deflateRawSync, inflateRawSync } from 'node:zlib';
import avro from 'avsc';
import { AuditErrorCode, CodecError } from '../common/errors.js';
import type { SchemaSet } from './schema-set.js';
import { knownSchema } from './schema-set.js';

export const CONTAINER_MAGIC = Buffer.from('Obj\x01', 'latin1');
export const SYNC_SIZE = 16;
export const CONTAINER_CODECS = ['null', 'deflate'] as const;
export type ContainerCodec = (typeof CONTAINER_CODECS)[number];

const HEADER_TYPE = avro.Type.forSchema({
  type: 'record',
  name: 'org.apache.avro.file.Header',
  fields: [
    { name: 'magic', type: { type: 'fixed', name: 'Magic', size: 4 } },
    { name: 'meta', type: { type: 'map', values: 'bytes' } },
    { name: 'sync', type: { type: 'fixed', name: 'Sync', size: SYNC_SIZE } },
  ],
});
const LONG = avro.Type.forSchema('long');

export interface ContainerHeader {
  /** The writer schema, as JSON text. */
  schema: string;
  codec: ContainerCodec;
  /** User metadata (keys must not start with `avro.`), in a fixed order for deterministic bytes. */
  metadata: Record<string, string>;
  sync: Buffer;
}

export function encodeContainerHeader(header: ContainerHeader): Buffer {
  if (header.sync.length !== SYNC_SIZE) {
    // the archiver derives the marker; a wrong size is a mistake in that code, not in any input
    throw new CodecError(AuditErrorCode.InvalidState, `sync marker must be ${SYNC_SIZE} bytes`);
  }
  const meta: Record<string, Buffer> = {
    'avro.schema': Buffer.from(header.schema, 'utf8'),
    'avro.codec': Buffer.from(header.codec, 'utf8'),
  };
  for (const [key, value] of Object.entries(header.metadata)) {
    if (key.startsWith('avro.')) {
      throw new CodecError(AuditErrorCode.InvalidField, `metadata key ${key} is reserved by Avro`);
    }
    meta[key] = Buffer.from(value, 'utf8');
  }
  return HEADER_TYPE.toBuffer({ magic: CONTAINER_MAGIC, meta, sync: header.sync });
}

function compress(codec: ContainerCodec, data: Buffer): Buffer {
  return codec === 'deflate' ? deflateRawSync(data) : data;
}

function decompress(codec: ContainerCodec, data: Buffer): Buffer {
  return codec === 'deflate' ? inflateRawSync(data) : data;
}

/** One block of `count` records whose Avro bodies are `raw`, back to back. */
export function encodeContainerBlock(
  count: number,
  raw: Buffer,
  codec: ContainerCodec,
  sync: Buffer,
): Buffer {
  return blockBytes(count, compress(codec, raw), sync);
}

function blockBytes(count: number, data: Buffer, sync: Buffer): Buffer {
  return Buffer.concat([LONG.toBuffer(count), LONG.toBuffer(data.length), data, sync]);
}

const deflateRawAsync = promisify(deflateRaw);
/** Output chunks of the asynchronous deflate: a block of a thousand events compresses into one. */
const DEFLATE_CHUNK_SIZE = 256 * 1024;

/** `encodeContainerBlock` with the compression off the event loop: the same bytes. */
export async function encodeContainerBlockAsync(
  count: number,
  raw: Buffer,
  codec: ContainerCodec,
  sync: Buffer,
): Promise<Buffer> {
  const data =
    codec === 'deflate' ? await deflateRawAsync(raw, { chunkSize: DEFLATE_CHUNK_SIZE }) : raw;
  return blockBytes(count, data, sync);
}

export interface DecodedContainer {
  header: ContainerHeader;
  /** Offset of the first block. */
  bodyStart: number;
}

function isCodec(value: string): value is ContainerCodec {
  return (CONTAINER_CODECS as readonly string[]).includes(value);
}

export function decodeContainerHeader(bytes: Buffer): DecodedContainer {
  if (bytes.length < CONTAINER_MAGIC.length || !bytes.subarray(0, 4).equals(CONTAINER_MAGIC)) {
    throw new CodecError(
      AuditErrorCode.DecodeFailed,
      'not an Avro object container file (bad magic)',
    );
  }
  const decoded: { value: unknown; offset: number } = HEADER_TYPE.decode(bytes, 0);
  const { offset } = decoded;
  const value = decoded.value as { meta: Record<string, Buffer>; sync: Buffer } | undefined;
  if (value === undefined || offset < 0) {
    throw new CodecError(AuditErrorCode.DecodeFailed, 'truncated container header');
  }
  const schema = value.meta['avro.schema']?.toString('utf8');
  if (schema === undefined)
    throw new CodecError(AuditErrorCode.DecodeFailed, 'container header has no avro.schema');
  const codec = value.meta['avro.codec']?.toString('utf8') ?? 'null';
  if (!isCodec(codec))
    throw new CodecError(AuditErrorCode.DecodeFailed, `unsupported container codec ${codec}`);
  const metadata: Record<string, string> = {};
  for (const [key, v] of Object.entries(value.meta)) {
    if (!key.startsWith('avro.')) metadata[key] = v.toString('utf8');
  }
  return { header: { schema, codec, metadata, sync: Buffer.from(value.sync) }, bodyStart: offset };
}

function decodeLong(bytes: Buffer, pos: number): { value: number; offset: number } {
  const decoded: { value: unknown; offset: number } = LONG.decode(bytes, pos);
  return { value: typeof decoded.value === 'number' ? decoded.value : -1, offset: decoded.offset };
}

export interface ContainerBlock {
  count: number;
  /** Decompressed concatenation of the block's record bodies. */
  data: Buffer;
}

/** The blocks of a whole container file, checked against the header's sync marker. */
export function* containerBlocks(
  bytes: Buffer,
  decoded: DecodedContainer = decodeContainerHeader(bytes),
): Generator<ContainerBlock> {
  const { header } = decoded;
  let pos = decoded.bodyStart;
  while (pos < bytes.length) {
    const count = decodeLong(bytes, pos);
    if (count.offset < 0)
      throw new CodecError(AuditErrorCode.DecodeFailed, `truncated block count at byte ${pos}`);
    const size = decodeLong(bytes, count.offset);
    if (size.offset < 0)
      throw new CodecError(
        AuditErrorCode.DecodeFailed,
        `truncated block size at byte ${count.offset}`,
      );
    const end = size.offset + size.value;
    if (size.value < 0 || end + SYNC_SIZE > bytes.length) {
      throw new CodecError(AuditErrorCode.DecodeFailed, `truncated block at byte ${pos}`);
    }
    if (!bytes.subarray(end, end + SYNC_SIZE).equals(header.sync)) {
      throw new CodecError(
        AuditErrorCode.DecodeFailed,
        `sync marker mismatch after block at byte ${pos}`,
      );
    }
    let data: Buffer;
    try {
      data = decompress(header.codec, bytes.subarray(size.offset, end));
    } catch (cause) {
      throw new CodecError(
        AuditErrorCode.DecodeFailed,
        `block at byte ${pos} does not decompress`,
        cause,
      );
    }
    yield { count: count.value, data };
    pos = end + SYNC_SIZE;
  }
}

/**
 * Every record of a container file, decoded into the reader schema of `schemas`
 * (schema resolution from the file's writer schema).
 */
export function* readContainerRecords<T>(bytes: Buffer, schemas: SchemaSet): Generator<T> {
  for (const batch of readContainerBatches<T>(bytes, schemas, 1)) yield batch[0] as T;
}

/**
 * The records of a container file as arrays of at most `maxRecords` records,
 * in file order, each array from one block: a caller deals with many records
 * per step, and holds at most one block and `maxRecords` decoded records.
 */
export function* readContainerBatches<T>(
  bytes: Buffer,
  schemas: SchemaSet,
  maxRecords: number,
): Generator<T[]> {
  const decoded = decodeContainerHeader(bytes);
  const writer = knownSchema(JSON.parse(decoded.header.schema) as avro.Schema);
  const resolver =
    writer.fingerprintHex === schemas.reader.fingerprintHex
      ? undefined
      : schemas.reader.type.createResolver(writer.type);
  const type = schemas.reader.type;
  for (const block of containerBlocks(bytes, decoded)) {
    let pos = 0;
    let batch: T[] = [];
    for (let i = 0; i < block.count; i++) {
      let next: { value: unknown; offset: number };
      try {
        next = type.decode(block.data, pos, resolver);
      } catch (error) {
        // avsc refuses bytes that hold no value of the schema (an enum index or a
        // union branch out of range, a negative length) with a plain Error
        if (!(error instanceof Error)) throw error;
        throw new CodecError(
          AuditErrorCode.DecodeFailed,
          `record ${i} of a block does not decode: ${error.message}`,
          error,
        );
      }
      if (next.offset < 0)
        throw new CodecError(AuditErrorCode.DecodeFailed, `record ${i} of block is truncated`);
      batch.push(next.value as T);
      pos = next.offset;
      if (batch.length === maxRecords) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
  }
}
