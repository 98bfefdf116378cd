/**
 * The schemas this build knows: the current (reader) schema of audit events and
 * every writer schema it can resolve, looked up by CRC-64-AVRO fingerprint.
 * Loading the .avsc file happens once, here; everything else in schemas/ is pure.
 */
import { readFileSync } from 'node:fs';
import avro from 'avsc';
import { CodecError, AuditErrorCode } from '../common/errors.js';
import { canonicalForm, schemaFingerprint } from './fingerprint.js';

export interface KnownSchema {
  readonly type: avro.Type;
  readonly schema: avro.Schema;
  /** 8 bytes, little-endian, as in single-object encoding. */
  readonly fingerprint: Buffer;
  /** Lower-case hex of `fingerprint`, for headers and metadata. */
  readonly fingerprintHex: string;
  readonly canonical: string;
}

export function knownSchema(schema: avro.Schema): KnownSchema {
  const fingerprint = schemaFingerprint(schema);
  return {
    type: avro.Type.forSchema(schema),
    schema,
    fingerprint,
    fingerprintHex: fingerprint.toString('hex'),
    canonical: canonicalForm(schema),
  };
}

/** A writer schema the reader accepts, with the resolver its records are read through. */
export interface WriterEntry {
  writer: KnownSchema;
  /** Undefined for the reader schema itself: its records need no resolution. */
  resolver: avro.Resolver | undefined;
}

/**
 * A reader schema plus the writer schemas it accepts. Resolvers are built once
 * per writer schema and kept.
 */
export class SchemaSet {
  readonly reader: KnownSchema;
  /** The entry of the reader schema itself: what nearly every record names. */
  readonly readerEntry: WriterEntry;
  private readonly writers = new Map<string, WriterEntry>();

  constructor(reader: avro.Schema, writers: readonly avro.Schema[] = []) {
    this.reader = knownSchema(reader);
    this.readerEntry = { writer: this.reader, resolver: undefined };
    this.writers.set(this.reader.fingerprintHex, this.readerEntry);
    for (const w of writers) this.addWriter(knownSchema(w));
  }

  private addWriter(writer: KnownSchema): void {
    if (writer.fingerprintHex === this.reader.fingerprintHex) return; // the reader's entry is there
    let resolver: avro.Resolver;
    try {
      resolver = this.reader.type.createResolver(writer.type);
    } catch (cause) {
      throw new CodecError(
        AuditErrorCode.UnknownSchema,
        `writer schema ${writer.fingerprintHex} cannot be resolved against the reader schema`,
        cause,
      );
    }
    this.writers.set(writer.fingerprintHex, { writer, resolver });
  }

  /** The writer schema and its resolver for a fingerprint, or undefined when unknown. */
  lookup(fingerprintHex: string): WriterEntry | undefined {
    return this.writers.get(fingerprintHex);
  }
}

let current: SchemaSet | undefined;

/** The schema file shipped with the package: `schemas/audit-event.avsc`. */
export const AUDIT_EVENT_SCHEMA_URL = new URL('../../schemas/audit-event.avsc', import.meta.url);

export function loadSchemaFile(url: URL): avro.Schema {
  return JSON.parse(readFileSync(url, 'utf8')) as avro.Schema;
}

/** The schema set of this build, loaded on first use. */
export function auditEventSchemas(): SchemaSet {
  current ??= new SchemaSet(loadSchemaFile(AUDIT_EVENT_SCHEMA_URL));
  return current;
}
