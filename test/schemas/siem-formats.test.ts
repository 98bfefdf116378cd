import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import { AUDIT_EVENT_TYPES } from '../../schemas/event-type.js';
import {
  SIEM_FORMATS,
  isSiemFormat,
  renderSiem,
  type SiemFormat,
} from '../../schemas/siem/index.js';
import { record } from '../helpers.js';

test('the SIEM formats and their guard', () => {
  assert.deepEqual(SIEM_FORMATS, ['ocsf', 'ecs', 'cef']);
  for (const format of SIEM_FORMATS) assert.ok(isSiemFormat(format));
  for (const value of ['OCSF', 'json', 'csv', '', null, undefined, 1, ['cef']])
    assert.equal(isSiemFormat(value), false);
});

test('an unknown format from an untyped caller is INVALID_OPTION naming it', () => {
  assert.throws(
    () => renderSiem('leef' as SiemFormat, record()),
    (error: unknown) =>
      error instanceof AuditError &&
      error.code === AuditErrorCode.InvalidOption &&
      error.field === 'format' &&
      /"leef"/u.test(error.message),
  );
});

test('an event type without a mapping is refused, never rendered as another', () => {
  for (const format of SIEM_FORMATS)
    assert.throws(
      () => renderSiem(format, record({ event_type: 'PackagePublish' })),
      (error: unknown) =>
        error instanceof AuditError &&
        error.code === AuditErrorCode.UnknownEventType &&
        error.field === 'event_type' &&
        /"PackagePublish"/u.test(error.message),
    );
});

test('every event type renders in every format: one JSON document or one line, no line end', () => {
  for (const eventType of AUDIT_EVENT_TYPES)
    for (const format of SIEM_FORMATS) {
      const text = renderSiem(format, record({ event_type: eventType }));
      assert.ok(!/[\r\n]/u.test(text), `${format} ${eventType}: one line`);
      if (format === 'cef') assert.match(text, /^CEF:0\|/u);
      else assert.equal(typeof JSON.parse(text), 'object');
    }
});

test('the renderings are pure: the same record gives the same text, and the record is not changed', () => {
  const r = record({ details: { 'a.b': '1', registry: 'https://registry.npmjs.org' } });
  const before = structuredClone(r);
  for (const format of SIEM_FORMATS)
    assert.equal(renderSiem(format, r), renderSiem(format, structuredClone(r)));
  assert.deepEqual(r, before);
});
