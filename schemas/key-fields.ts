/**
 * What the Kafka record of an event needs besides its value, read from its
 * single-object encoding without decoding the rest (pure): the fields its key
 * is made of and its event type. A reader schema with only these fields,
 * resolved against each writer schema, skips the other fields instead of
 * building them (details map, strings): about a third of a full decode.
 */
import avro from 'avsc';
import { AuditErrorCode, CodecError } from '../common/errors.js';
import type { AuditEventRecord } from './event-record.js';
import type { SchemaSet, WriterEntry } from './schema-set.js';
import { singleObjectBody, writerOf } from './single-object.js';

export type KeyFields = Pick<AuditEventRecord, 'id' | 'event_type' | 'package_name' | 'source'>;

const KEY_FIELDS: ReadonlySet<string> = new Set(['id', 'event_type', 'package_name', 'source']);

export class KeyFieldsReader {
  private readonly schemas: SchemaSet;
  private readonly type: avro.Type;
  /** One resolver per writer schema met, built on first use. */
  private readonly resolvers = new Map<WriterEntry, avro.Resolver>();

  constructor(schemas: SchemaSet) {
    this.schemas = schemas;
    const reader = schemas.reader.schema as avro.schema.RecordType;
    // the reader's own field definitions (defaults included), so that resolution works as for a full decode
    this.type = avro.Type.forSchema({
      ...reader,
      fields: reader.fields.filter((field) => KEY_FIELDS.has(field.name)),
    });
  }

  /** The key fields and event type of one single-object encoding; a CodecError when it cannot. */
  read(bytes: Uint8Array): KeyFields {
    const known = writerOf(this.schemas, bytes);
    let resolver = this.resolvers.get(known);
    if (resolver === undefined) {
      resolver = this.type.createResolver(known.writer.type);
      this.resolvers.set(known, resolver);
    }
    try {
      return this.type.fromBuffer(singleObjectBody(bytes), resolver) as KeyFields;
    } catch (cause) {
      throw new CodecError(
        AuditErrorCode.DecodeFailed,
        `body does not decode with writer schema ${known.writer.fingerprintHex}: ${(cause as Error).message}`,
        cause,
      );
    }
  }
}
