import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { KeyFieldsReader } from '../../schemas/key-fields.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { encodeSingleObject } from '../../schemas/single-object.js';
import { record } from '../helpers.js';

const reader = new KeyFieldsReader(auditEventSchemas());

const cases = {
  'a package event': record(),
  'no package': record({ event_type: 'ConfigurationChange', package_name: null }),
  'no package, no source': record({
    event_type: 'VulnerabilityScan',
    package_name: null,
    source: null,
    details: { a: 'b'.repeat(500) },
  }),
  'a failure with a message': record({ success: false, error_message: 'denied' }),
};

for (const [name, value] of Object.entries(cases)) {
  test(`key fields of ${name} are those of the full record`, () => {
    const fields = reader.read(encodeSingleObject(auditEventSchemas(), value));
    assert.deepEqual(
      { ...fields },
      {
        id: value.id,
        event_type: value.event_type,
        package_name: value.package_name,
        source: value.source,
      },
    );
  });
}

test('an unknown writer schema is UNKNOWN_SCHEMA, a cut body DECODE_FAILED', () => {
  const bytes = encodeSingleObject(auditEventSchemas(), record());
  const foreign = Buffer.from(bytes);
  foreign[2] = (foreign[2] as number) ^ 0xff;
  assert.throws(() => reader.read(foreign), { code: AuditErrorCode.UnknownSchema });
  assert.throws(() => reader.read(bytes.subarray(0, 20)), { code: AuditErrorCode.DecodeFailed });
  assert.throws(() => reader.read(Buffer.from('not avro')), { code: AuditErrorCode.DecodeFailed });
});
