import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode, ValidationError } from '../../common/errors.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { AuditEventType } from '../../schemas/event-type.js';

test('a new event has a UUID v7 id, the current time and success=true', () => {
  const before = Date.now();
  const event = new AuditEvent(AuditEventType.IntegrityCheck);
  assert.match(event.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.ok(event.timestamp.getTime() >= before && event.timestamp.getTime() <= Date.now());
  assert.equal(event.success, true);
  assert.deepEqual(event.details, {});
});

test('ids are time-ordered', () => {
  const ids = Array.from({ length: 100 }, () => new AuditEvent(AuditEventType.IntegrityCheck).id);
  assert.deepEqual([...ids].sort(), ids);
  assert.equal(new Set(ids).size, ids.length);
});

test('the builder sets every property and maps to the record shape', () => {
  const at = new Date('2026-03-01T10:00:00.250Z');
  const event = new AuditEvent(AuditEventType.PackageUpdate)
    .withPackageName('express')
    .withPackageVersion('5.0.1')
    .withUser('ada')
    .withIpAddress('2001:db8::2')
    .withDetail('from_version', '4.21.1')
    .withDetails({ registry: 'npm' })
    .withSuccess(false)
    .withErrorMessage('peer dependency conflict')
    .withTimestamp(at)
    .withSource('build-eu-3');
  assert.deepEqual(event.toRecord(), {
    id: event.id,
    timestamp: at.getTime(),
    event_type: 'PackageUpdate',
    package_name: 'express',
    package_version: '5.0.1',
    user: 'ada',
    ip_address: '2001:db8::2',
    details: { from_version: '4.21.1', registry: 'npm' },
    success: false,
    error_message: 'peer dependency conflict',
    source: 'build-eu-3',
  });
  assert.deepEqual(AuditEvent.fromRecord(event.toRecord()), event);
});

test('builder methods reject a bad argument at once, naming the field', () => {
  const event = new AuditEvent(AuditEventType.PackageInstall);
  const cases: [() => unknown, string][] = [
    [() => event.withPackageName(''), 'package_name'],
    [() => event.withPackageVersion('not a version'), 'package_version'],
    [() => event.withIpAddress('999.0.0.1'), 'ip_address'],
    [() => event.withUser(''), 'user'],
    [() => event.withDetail('k', 'v'.repeat(5000)), 'details.k'],
    [() => event.withTimestamp(new Date('nope')), 'timestamp'],
    [() => event.withErrorMessage(''), 'error_message'],
    [() => event.withSource(''), 'source'],
  ];
  for (const [call, field] of cases) {
    assert.throws(
      call,
      (error: unknown) => error instanceof ValidationError && error.field === field,
    );
  }
  // a rejected value leaves the event as it was
  assert.equal(event.packageName, undefined);
  assert.deepEqual(event.details, {});
});

test('an unknown event type is refused by the constructor', () => {
  assert.throws(() => new AuditEvent('PackageDelete' as AuditEventType), {
    code: AuditErrorCode.UnknownEventType,
    field: 'event_type',
  });
});

test('validate() checks the rules between fields', () => {
  const failed = new AuditEvent(AuditEventType.PackageInstall)
    .withPackageName('x')
    .withSuccess(false);
  assert.throws(() => failed.validate(), {
    code: AuditErrorCode.InconsistentOutcome,
    field: 'error_message',
  });
  assert.doesNotThrow(() => failed.withErrorMessage('network down').validate());
  const noPackage = new AuditEvent(AuditEventType.PackageUninstall);
  assert.throws(() => noPackage.validate(), {
    code: AuditErrorCode.MissingField,
    field: 'package_name',
  });
});
