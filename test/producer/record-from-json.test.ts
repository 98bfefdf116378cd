import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { toExportObject } from '../../consumers/exporter/render.js';
import { recordFromJson } from '../../producer/record-from-json.js';
import { record } from '../helpers.js';

test('an exported object reads back to the same record', () => {
  const original = record({ details: { a: 'b' } });
  assert.deepEqual(recordFromJson(JSON.parse(JSON.stringify(toExportObject(original)))), original);
});

test('id and timestamp are generated, success defaults to true', () => {
  const parsed = recordFromJson({ event_type: 'IntegrityCheck', package_name: 'x' }, 1234);
  assert.match(parsed.id, /^[0-9a-f-]{36}$/);
  assert.equal(parsed.timestamp, 1234);
  assert.equal(parsed.success, true);
  assert.deepEqual(parsed.details, {});
});

const bad: [string, unknown, string][] = [
  ['an array', [], 'event'],
  ['a misspelt field', { event_type: 'IntegrityCheck', pakage_name: 'x' }, 'pakage_name'],
  [
    'a timestamp that is not ISO-8601',
    { event_type: 'IntegrityCheck', timestamp: 'yesterday' },
    'timestamp',
  ],
  ['an unknown type', { event_type: 'Install' }, 'event_type'],
  ['a failure without message', { event_type: 'IntegrityCheck', success: false }, 'error_message'],
];
for (const [name, value, field] of bad) {
  test(`recordFromJson refuses ${name}, naming ${field}`, () => {
    assert.throws(
      () => recordFromJson(value),
      (e: { code?: string; field?: string }) =>
        e.field === field && e.code !== undefined && e.code !== AuditErrorCode.Io,
    );
  });
}
