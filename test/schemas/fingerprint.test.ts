import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalForm, crc64Avro, schemaFingerprint } from '../../schemas/fingerprint.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';

// Input, Parsing Canonical Form and CRC-64-AVRO fingerprint (signed 64-bit),
// from the Avro specification's test data (share/test/data/schema-tests.txt).
const VECTORS: readonly [string, string, string][] = [
  ['"null"', '"null"', '7195948357588979594'],
  ['{"type":"null"}', '"null"', '7195948357588979594'],
  ['"boolean"', '"boolean"', '-6970731678124411036'],
  ['"int"', '"int"', '8247732601305521295'],
  ['"long"', '"long"', '-3434872931120570953'],
  ['"float"', '"float"', '5583340709985441680'],
  ['"double"', '"double"', '-8181574048448539266'],
  ['"bytes"', '"bytes"', '5746618253357095269'],
  ['"string"', '"string"', '-8142146995180207161'],
  ['[ "int"  ]', '["int"]', '-5232228896498058493'],
  ['[ "int" , {"type":"boolean"} ]', '["int","boolean"]', '5392556393470105090'],
  [
    '{"fields":[], "type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[]}',
    '-4824392279771201922',
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "namespace":"x.y"}',
    '{"name":"x.y.foo","type":"record","fields":[]}',
    '5916914534497305771',
  ],
  [
    '{"fields":[], "type":"record", "name":"a.b.foo", "namespace":"x.y"}',
    '{"name":"a.b.foo","type":"record","fields":[]}',
    '-4616218487480524110',
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "doc":"Useful info"}',
    '{"name":"foo","type":"record","fields":[]}',
    '-4824392279771201922',
  ],
  [
    '{"fields":[], "type":"record", "name":"foo", "doc":"foo", "aliases":["foo","bar"]}',
    '{"name":"foo","type":"record","fields":[]}',
    '-4824392279771201922',
  ],
  [
    '{"fields":[{"type":{"type":"boolean"}, "name":"f1"}], "type":"record", "name":"foo"}',
    '{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}',
    '7843277075252814651',
  ],
  [
    '{"type":"enum", "name":"foo", "symbols":["A1"]}',
    '{"name":"foo","type":"enum","symbols":["A1"]}',
    '-6342190197741309591',
  ],
  [
    '{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"]}',
    '{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}',
    '-4448647247586288245',
  ],
  [
    '{"name":"foo","type":"fixed","size":15}',
    '{"name":"foo","type":"fixed","size":15}',
    '1756455273707447556',
  ],
  [
    '{"namespace":"x.y.z", "type":"fixed", "name":"foo", "doc":"foo bar", "size":32}',
    '{"name":"x.y.z.foo","type":"fixed","size":32}',
    '-3064184465700546786',
  ],
  [
    '{ "items":{"type":"null"}, "type":"array"}',
    '{"type":"array","items":"null"}',
    '-589620603366471059',
  ],
  [
    '{ "values":"string", "type":"map"}',
    '{"type":"map","values":"string"}',
    '-8732877298790414990',
  ],
  [
    '{"name":"PigValue","type":"record","fields":[{"name":"value", "type":["null", "int", "long", "PigValue"]}]}',
    '{"name":"PigValue","type":"record","fields":[{"name":"value","type":["null","int","long","PigValue"]}]}',
    '-1759257747318642341',
  ],
];

for (const [input, canonical, fingerprint] of VECTORS) {
  test(`canonical form and CRC-64-AVRO of ${input}`, () => {
    const form = canonicalForm(input);
    assert.equal(form, canonical);
    assert.equal(BigInt.asIntN(64, crc64Avro(Buffer.from(form, 'utf8'))).toString(), fingerprint);
  });
}

test('the empty input fingerprints to the algorithm constant', () => {
  assert.equal(crc64Avro(new Uint8Array()), 0xc15d213aa4d7a795n);
});

test('schemaFingerprint is the little-endian form of the fingerprint', () => {
  const bytes = schemaFingerprint('"int"');
  assert.equal(BigInt.asIntN(64, bytes.readBigUInt64LE()).toString(), '8247732601305521295');
});

test('documentation and logical types do not change the audit event fingerprint', () => {
  const schemas = auditEventSchemas();
  const stripped = JSON.parse(JSON.stringify(schemas.reader.schema)) as { doc?: string };
  delete stripped.doc;
  assert.equal(schemaFingerprint(stripped as never).toString('hex'), schemas.reader.fingerprintHex);
});
