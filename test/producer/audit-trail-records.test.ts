import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { record } from '../helpers.js';

test('addRecord validates, fills source, and keeps a copy: the caller’s object stays as it was', () => {
  const trail = new AuditTrail({ source: 'host-a' });
  const input = record({ source: null });
  trail.addRecord(input);
  assert.equal(input.source, null);
  input.details['added'] = 'later';
  const [event] = trail.events();
  assert.equal(event?.source, 'host-a');
  assert.deepEqual(event?.details, { registry: 'https://registry.npmjs.org' });
});

const refused: [string, Partial<AuditEventRecord>, string][] = [
  ['a bad id', { id: 'nope' }, 'id'],
  [
    'details that are not a map',
    { details: 'text' as unknown as Record<string, string> },
    'details',
  ],
  ['a failure without a message', { success: false }, 'error_message'],
  ['a package event without a package', { package_name: null }, 'package_name'],
];

for (const [name, overrides, field] of refused) {
  test(`addRecord refuses ${name}, naming ${field}, and records nothing`, () => {
    const trail = new AuditTrail();
    assert.throws(
      () => trail.addRecord(record(overrides)),
      (error: { field?: string }) => {
        assert.equal(error.field, field);
        return true;
      },
    );
    assert.equal(trail.size, 0);
  });
}

test('addRecord after close is CLOSED', async () => {
  const trail = new AuditTrail();
  await trail.close();
  assert.throws(() => trail.addRecord(record()), { code: AuditErrorCode.Closed });
});
