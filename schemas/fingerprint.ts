/**
 * CRC-64-AVRO, the 64-bit Rabin fingerprint of the Avro specification
 * ("Schema Fingerprints"), over a schema's Parsing Canonical Form.
 * Single-object encoding carries it, little-endian, to name the writer schema.
 */
import avro from 'avsc';

const EMPTY = 0xc15d213aa4d7a795n;
const MASK64 = 0xffffffffffffffffn;

const TABLE: readonly bigint[] = (() => {
  const table: bigint[] = [];
  for (let i = 0; i < 256; i++) {
    let fp = BigInt(i);
    for (let j = 0; j < 8; j++) {
      fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK64);
    }
    table.push(fp);
  }
  return table;
})();

/** The unsigned 64-bit fingerprint of some bytes (normally a canonical schema in UTF-8). */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const byte of bytes) {
    fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint);
  }
  return fp;
}

/** Parsing Canonical Form of a schema (JSON text or object), as avsc computes it. */
export function canonicalForm(schema: avro.Schema | string): string {
  const parsed: avro.Schema =
    typeof schema === 'string' ? (JSON.parse(schema) as avro.Schema) : schema;
  return JSON.stringify(avro.Type.forSchema(parsed).schema());
}

/** Fingerprint of a schema's canonical form as the 8 little-endian bytes single-object encoding uses. */
export function schemaFingerprint(schema: avro.Schema | string): Buffer {
  const fp = crc64Avro(Buffer.from(canonicalForm(schema), 'utf8'));
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return out;
}
