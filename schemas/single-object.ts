/**
 * Avro single-object encoding: `C3 01`, the 8-byte little-endian CRC-64-AVRO
 * fingerprint of the writer schema, then the binary body.
 */
import { AuditErrorCode, CodecError } from '../common/errors.js';
import type { SchemaSet, WriterEntry } from './schema-set.js';

export const SINGLE_OBJECT_MARKER = Buffer.from([0xc3, 0x01]);
export const SINGLE_OBJECT_HEADER_SIZE = 10;

/**
 * Encodings are written in place into chunks of this size, and each is a
 * slice of its chunk, as `Buffer.allocUnsafe` cuts small buffers from a shared
 * pool: no copy from a scratch buffer. A body larger than a chunk gets a chunk
 * of its own size.
 */
const CHUNK_SIZE = 64 * 1024;
let chunk = Buffer.allocUnsafe(CHUNK_SIZE);
/** Bytes of `chunk` handed out. */
let used = 0;

/** Encode a value with the reader (current) schema of the set. */
export function encodeSingleObject(schemas: SchemaSet, value: unknown): Buffer {
  const { type, fingerprint } = schemas.reader;
  // avsc's encode returns the end, or minus the bytes missing when the buffer is too small
  let end = type.encode(value, chunk, used + SINGLE_OBJECT_HEADER_SIZE);
  if (end < 0) {
    const size = chunk.length - end - used;
    chunk = Buffer.allocUnsafe(Math.max(CHUNK_SIZE, size));
    used = 0;
    end = type.encode(value, chunk, SINGLE_OBJECT_HEADER_SIZE);
  }
  const start = used;
  chunk[start] = SINGLE_OBJECT_MARKER[0] as number;
  chunk[start + 1] = SINGLE_OBJECT_MARKER[1] as number;
  fingerprint.copy(chunk, start + 2);
  used = end;
  return chunk.subarray(start, end);
}

function checkMarker(bytes: Uint8Array): void {
  if (
    bytes.length < SINGLE_OBJECT_HEADER_SIZE ||
    bytes[0] !== SINGLE_OBJECT_MARKER[0] ||
    bytes[1] !== SINGLE_OBJECT_MARKER[1]
  ) {
    throw new CodecError(
      AuditErrorCode.DecodeFailed,
      'not an Avro single-object encoding (no C3 01 marker)',
    );
  }
}

/** The writer-schema fingerprint (hex) of a single-object encoding, or a CodecError. */
export function singleObjectFingerprint(bytes: Uint8Array): string {
  checkMarker(bytes);
  return Buffer.from(bytes.buffer, bytes.byteOffset + 2, 8).toString('hex');
}

/**
 * Whether a single-object encoding names the reader schema of the set,
 * compared byte by byte (no hex string per record: nearly every record does).
 */
export function isReaderEncoded(schemas: SchemaSet, bytes: Uint8Array): boolean {
  const fingerprint = schemas.reader.fingerprint;
  for (let i = 0; i < 8; i++) if (bytes[2 + i] !== fingerprint[i]) return false;
  return bytes.length >= SINGLE_OBJECT_HEADER_SIZE;
}

/**
 * The writer schema a single-object encoding names, with its resolver: the
 * reader's own entry found by comparing bytes, any other by its fingerprint;
 * a CodecError when the bytes are no such encoding or the schema is unknown.
 */
export function writerOf(schemas: SchemaSet, bytes: Uint8Array): WriterEntry {
  checkMarker(bytes);
  if (isReaderEncoded(schemas, bytes)) return schemas.readerEntry;
  const fingerprint = singleObjectFingerprint(bytes);
  const known = schemas.lookup(fingerprint);
  if (known === undefined)
    throw new CodecError(
      AuditErrorCode.UnknownSchema,
      `unknown writer schema fingerprint ${fingerprint}`,
    );
  return known;
}

/** The body of a single-object encoding (a view). */
export function singleObjectBody(bytes: Uint8Array): Buffer {
  return Buffer.from(
    bytes.buffer,
    bytes.byteOffset + SINGLE_OBJECT_HEADER_SIZE,
    bytes.length - SINGLE_OBJECT_HEADER_SIZE,
  );
}

/**
 * Decode a single-object encoding into the reader schema of the set, resolving
 * from the writer schema its fingerprint names.
 */
export function decodeSingleObject<T>(schemas: SchemaSet, bytes: Uint8Array): T {
  const known = writerOf(schemas, bytes);
  try {
    return schemas.reader.type.fromBuffer(singleObjectBody(bytes), known.resolver) as T;
  } catch (cause) {
    throw new CodecError(
      AuditErrorCode.DecodeFailed,
      `body does not decode with writer schema ${known.writer.fingerprintHex}: ${(cause as Error).message}`,
      cause,
    );
  }
}
