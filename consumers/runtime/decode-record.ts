/**
 * The one decode step at a source's boundary: the single-object encoding is
 * decoded and the event validated once, and the result travels with the record.
 */
import { AuditErrorCode, CodecError, isAuditError } from '../../common/errors.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import type { SchemaSet } from '../../schemas/schema-set.js';
import {
  decodeSingleObject,
  isReaderEncoded,
  SINGLE_OBJECT_HEADER_SIZE,
} from '../../schemas/single-object.js';
import { validateRecord } from '../../schemas/validate.js';
import type { DecodedRecord, SourceRecord } from './record-source.js';

/** The event in `value` and its body in the reader schema, or why there is none. */
export function decodeRecord(schemas: SchemaSet, value: Buffer | null): DecodedRecord {
  if (value === null)
    return { error: new CodecError(AuditErrorCode.DecodeFailed, 'empty record value') };
  try {
    const event = validateRecord(decodeSingleObject<AuditEventRecord>(schemas, value));
    // an event written with the reader schema keeps its bytes; an older one is encoded again
    const sameSchema = isReaderEncoded(schemas, value);
    const body = sameSchema
      ? value.subarray(SINGLE_OBJECT_HEADER_SIZE)
      : schemas.reader.type.toBuffer(event);
    return { event, body };
  } catch (error) {
    // a CodecError (bytes, schema) or a ValidationError (the event); anything else is a bug
    if (!isAuditError(error)) throw error;
    return { error };
  }
}

/** A record read from a log, decoded. */
export function sourceRecord(
  schemas: SchemaSet,
  raw: Omit<SourceRecord, 'decoded' | 'headers' | 'key'> &
    Partial<Pick<SourceRecord, 'headers' | 'key'>>,
): SourceRecord {
  // named fields, not a spread: this runs for every record a consumer reads
  return {
    topic: raw.topic,
    partition: raw.partition,
    offset: raw.offset,
    timestamp: raw.timestamp,
    key: raw.key ?? null,
    value: raw.value,
    headers: raw.headers ?? {},
    decoded: decodeRecord(schemas, raw.value),
  };
}
