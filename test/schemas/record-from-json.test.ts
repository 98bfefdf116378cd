import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode } from '../../common/errors.js';
import { toExportObject } from '../../schemas/render.js';
import { recordFromJson } from '../../schemas/record-from-json.js';
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

const goodTimes: [string, number][] = [
  ['2024-02-29T00:00:00Z', Date.UTC(2024, 1, 29)],
  ['2024-02-29T23:59:59.999Z', Date.UTC(2024, 1, 29, 23, 59, 59, 999)],
  ['2024-03-01T01:30:00+02:00', Date.UTC(2024, 2, 0, 23, 30)],
  ['2024-01-01T00:00:00.5-00:30', Date.UTC(2024, 0, 1, 0, 30, 0, 500)],
  ['2024-01-01T00:00Z', Date.UTC(2024, 0, 1)],
];
for (const [text, time] of goodTimes) {
  test(`recordFromJson reads the timestamp ${text} exactly`, () => {
    assert.equal(recordFromJson({ event_type: 'IntegrityCheck', timestamp: text }).timestamp, time);
  });
}

const bad: [string, unknown, string][] = [
  ['an array', [], 'event'],
  ['a misspelt field', { event_type: 'IntegrityCheck', pakage_name: 'x' }, 'pakage_name'],
  [
    'a timestamp that is not ISO-8601',
    { event_type: 'IntegrityCheck', timestamp: 'yesterday' },
    'timestamp',
  ],
  ['an unknown type', { event_type: 'Install' }, 'event_type'],
  [
    'February 30th',
    { event_type: 'IntegrityCheck', timestamp: '2024-02-30T00:00:00Z' },
    'timestamp',
  ],
  ['a date without a time', { event_type: 'IntegrityCheck', timestamp: '2024-02-30' }, 'timestamp'],
  ['hour 24', { event_type: 'IntegrityCheck', timestamp: '2024-01-01T24:00:00Z' }, 'timestamp'],
  ['minute 60', { event_type: 'IntegrityCheck', timestamp: '2024-01-01T23:60:00Z' }, 'timestamp'],
  ['second 60', { event_type: 'IntegrityCheck', timestamp: '2024-01-01T23:59:60Z' }, 'timestamp'],
  ['month 13', { event_type: 'IntegrityCheck', timestamp: '2024-13-01T00:00:00Z' }, 'timestamp'],
  ['no time zone', { event_type: 'IntegrityCheck', timestamp: '2024-01-01T00:00:00' }, 'timestamp'],
  [
    'offset hour 24',
    { event_type: 'IntegrityCheck', timestamp: '2024-01-01T00:00:00+24:00' },
    'timestamp',
  ],
  [
    'microseconds that milliseconds cannot keep',
    { event_type: 'IntegrityCheck', timestamp: '2024-01-01T00:00:00.123456Z' },
    'timestamp',
  ],
  [
    'a details key __proto__',
    JSON.parse('{"event_type":"IntegrityCheck","details":{"__proto__":"x"}}'),
    'details.__proto__',
  ],
  ['a lone surrogate', { event_type: 'IntegrityCheck', user: '\ud800' }, 'user'],

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
