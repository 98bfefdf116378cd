import assert from 'node:assert/strict';
import { test } from 'node:test';
import type avro from 'avsc';
import { AuditErrorCode } from '../../common/errors.js';
import {
  containerBlocks,
  decodeContainerHeader,
  encodeContainerBlock,
  encodeContainerHeader,
  readContainerRecords,
  type ContainerCodec,
} from '../../schemas/container.js';
import { auditEventSchemas, SchemaSet } from '../../schemas/schema-set.js';
import {
  decodeSingleObject,
  encodeSingleObject,
  singleObjectFingerprint,
} from '../../schemas/single-object.js';
import { record } from '../helpers.js';

const schemas = auditEventSchemas();

/** Version 2 of the event schema as a later release might write it: one more field, with a default. */
function v2Schema(): avro.Schema {
  const v1 = JSON.parse(JSON.stringify(schemas.reader.schema)) as { fields: unknown[] };
  v1.fields.push({ name: 'tenant', type: 'string', default: 'default-tenant' });
  return v1 as avro.Schema;
}

test('single-object encoding starts with C3 01 and the schema fingerprint', () => {
  const bytes = encodeSingleObject(schemas, record());
  assert.deepEqual([...bytes.subarray(0, 2)], [0xc3, 0x01]);
  assert.equal(bytes.subarray(2, 10).toString('hex'), schemas.reader.fingerprintHex);
  assert.equal(singleObjectFingerprint(bytes), schemas.reader.fingerprintHex);
});

const roundTrips: [string, Partial<ReturnType<typeof record>>][] = [
  ['all fields', {}],
  ['absent optionals', { package_version: null, user: null, ip_address: null, source: null }],
  ['failure', { success: false, error_message: 'checksum mismatch' }],
  ['unicode and empty details', { user: 'Zoë 東京', details: {} }],
  ['IPv6', { ip_address: '2001:db8::1' }],
];
for (const [name, overrides] of roundTrips) {
  test(`single-object round trip: ${name}`, () => {
    const value = record(overrides);
    assert.deepEqual(
      { ...decodeSingleObject<object>(schemas, encodeSingleObject(schemas, value)) },
      value,
    );
  });
}

test('encodings cut from shared chunks stay whole and apart, bodies larger than a chunk included', () => {
  const values = [];
  for (let i = 0; i < 2000; i++) {
    // every 500th event is larger than a chunk of 64 KiB
    const details: Record<string, string> = { n: String(i) };
    if (i % 500 === 499) details['blob'] = 'x'.repeat(70_000 + i);
    values.push(record({ details }));
  }
  const encoded = values.map((value) => encodeSingleObject(schemas, value));
  const copies = encoded.map((bytes) => Buffer.from(bytes));
  for (let i = 0; i < values.length; i++) {
    assert.ok((encoded[i] as Buffer).equals(copies[i] as Buffer), `encoding ${i} was overwritten`);
    assert.deepEqual({ ...decodeSingleObject<object>(schemas, encoded[i] as Buffer) }, values[i]);
  }
});

const badBytes: [string, Buffer, string][] = [
  ['empty', Buffer.alloc(0), AuditErrorCode.DecodeFailed],
  ['wrong marker', Buffer.from('c30201020304050607080a', 'hex'), AuditErrorCode.DecodeFailed],
  [
    'JSON text',
    Buffer.from('{"id":"x","event_type":"PackageInstall"}'),
    AuditErrorCode.DecodeFailed,
  ],
  [
    'unknown fingerprint',
    Buffer.from('c301ffffffffffffffff00', 'hex'),
    AuditErrorCode.UnknownSchema,
  ],
];
for (const [name, bytes, code] of badBytes) {
  test(`single-object decode rejects ${name}`, () => {
    assert.throws(() => decodeSingleObject(schemas, bytes), { code });
  });
}

test('single-object decode rejects a truncated body', () => {
  const bytes = encodeSingleObject(schemas, record());
  assert.throws(() => decodeSingleObject(schemas, bytes.subarray(0, bytes.length - 5)), {
    code: AuditErrorCode.DecodeFailed,
  });
});

test('schema resolution: a v2 reader reads v1 data and fills the new field with its default', () => {
  const v1Bytes = encodeSingleObject(schemas, record());
  const v2 = new SchemaSet(v2Schema(), [schemas.reader.schema]);
  assert.notEqual(v2.reader.fingerprintHex, schemas.reader.fingerprintHex);
  const decoded = decodeSingleObject<Record<string, unknown>>(v2, v1Bytes);
  assert.deepEqual({ ...decoded }, { ...record(), tenant: 'default-tenant' });
});

test('schema resolution: a v1 reader reads v2 data and drops the field it does not know', () => {
  const v2Only = new SchemaSet(v2Schema());
  const v2Bytes = encodeSingleObject(v2Only, { ...record(), tenant: 'acme' });
  const v1 = new SchemaSet(schemas.reader.schema, [v2Schema()]);
  assert.deepEqual({ ...decodeSingleObject<object>(v1, v2Bytes) }, record());
  // without the v2 schema registered, the fingerprint is unknown
  assert.throws(() => decodeSingleObject(schemas, v2Bytes), { code: AuditErrorCode.UnknownSchema });
});

function container(
  codec: ContainerCodec,
  records: ReturnType<typeof record>[],
  writer = schemas,
): Buffer {
  const sync = Buffer.alloc(16, 7);
  const bodies = records.map((r) => writer.reader.type.toBuffer(r));
  return Buffer.concat([
    encodeContainerHeader({
      schema: JSON.stringify(writer.reader.schema),
      codec,
      sync,
      metadata: { 'audit.count': String(records.length) },
    }),
    encodeContainerBlock(2, Buffer.concat(bodies.slice(0, 2)), codec, sync),
    encodeContainerBlock(bodies.length - 2, Buffer.concat(bodies.slice(2)), codec, sync),
  ]);
}

const events = [
  record(),
  record({ id: '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7f', user: 'ada' }),
  record({ event_type: 'IntegrityCheck' }),
];

for (const codec of ['null', 'deflate'] as const) {
  test(`container file round trip with codec ${codec}`, () => {
    const bytes = container(codec, events);
    const { header } = decodeContainerHeader(bytes);
    assert.equal(header.codec, codec);
    assert.deepEqual(header.metadata, { 'audit.count': '3' });
    assert.deepEqual(
      [...containerBlocks(bytes)].map((b) => b.count),
      [2, 1],
    );
    assert.deepEqual(
      [...readContainerRecords<object>(bytes, schemas)].map((r) => ({ ...r })),
      events,
    );
  });
}

test('container blocks are deterministic for the same input', () => {
  assert.deepEqual(container('deflate', events), container('deflate', events));
});

test('container records written with v1 are read by a v2 reader (schema resolution)', () => {
  const v2 = new SchemaSet(v2Schema());
  const decoded = [
    ...readContainerRecords<Record<string, unknown>>(container('deflate', events), v2),
  ];
  assert.deepEqual(
    decoded.map((r) => ({ ...r })),
    events.map((e) => ({ ...e, tenant: 'default-tenant' })),
  );
});

const damaged: [string, (b: Buffer) => Buffer][] = [
  ['bad magic', (b) => Buffer.concat([Buffer.from('Obj\x02'), b.subarray(4)])],
  ['truncated last block', (b) => b.subarray(0, b.length - 20)],
  [
    'sync marker changed',
    (b) => {
      const copy = Buffer.from(b);
      copy.writeUInt8(copy.readUInt8(copy.length - 1) ^ 0xff, copy.length - 1);
      return copy;
    },
  ],
];
for (const [name, damage] of damaged) {
  test(`container decode rejects ${name}`, () => {
    assert.throws(() => [...readContainerRecords(damage(container('deflate', events)), schemas)], {
      code: AuditErrorCode.DecodeFailed,
    });
  });
}

test('container decode names a record whose bytes do not decode (an enum index out of range)', () => {
  const bytes = container('null', events);
  // the first record: its id (length, 36 characters), its timestamp (a varint), then the type's enum index
  const id = bytes.indexOf(Buffer.from(events[0]?.id as string));
  let pos = id + 36;
  while ((bytes.readUInt8(pos) & 0x80) !== 0) pos++;
  const enumAt = pos + 1;
  assert.equal(bytes.readUInt8(enumAt), 0); // PackageInstall
  const damagedBytes = Buffer.from(bytes);
  damagedBytes.writeUInt8(0x07, enumAt); // zigzag -4: no such symbol
  assert.throws(() => [...readContainerRecords(damagedBytes, schemas)], {
    name: 'CodecError',
    code: AuditErrorCode.DecodeFailed,
    message: /^record 0 of a block does not decode: .*enum index/,
  });
});

test('container header refuses reserved metadata keys and bad sync markers', () => {
  assert.throws(() =>
    encodeContainerHeader({
      schema: '"int"',
      codec: 'null',
      sync: Buffer.alloc(16),
      metadata: { 'avro.x': '1' },
    }),
  );
  // the marker is derived by the archiver, not given by anyone: a wrong one is a mistake in the code
  assert.throws(
    () =>
      encodeContainerHeader({
        schema: '"int"',
        codec: 'null',
        sync: Buffer.alloc(8),
        metadata: {},
      }),
    { code: AuditErrorCode.InvalidState },
  );
});
