import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { AuditError, AuditErrorCode } from '../../common/errors.js';
import {
  ACCESS_DETAILS,
  accessRecord,
  fitText,
  isAccessRecord,
  type AccessInfo,
} from '../../consumers/exporter/access-record.js';
import { matchesFilter, parseFilter } from '../../consumers/exporter/filter.js';
import { AuditEvent } from '../../producer/audit-event.js';
import { LIMITS } from '../../schemas/limits.js';
import { validateRecord } from '../../schemas/validate.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { decodeSingleObject, encodeSingleObject } from '../../schemas/single-object.js';
import { record } from '../helpers.js';

const STARTED = new Date(Date.UTC(2026, 10, 29, 4, 0, 0, 250));

function info(overrides: Partial<AccessInfo> = {}): AccessInfo {
  return {
    who: 'ada',
    from: '192.0.2.10',
    channel: 'http',
    format: 'csv',
    filter: parseFilter({
      package: 'left-pad',
      type: ['PackageInstall', 'IntegrityCheck'],
      from: '2026-01-01',
      success: 'false',
    }),
    requestId: '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
    counts: {
      objectsListed: 12,
      objectsSelected: 5,
      objectsSkipped: 2,
      objectsRead: 3,
      eventsMatched: 41,
    },
    verification: { configured: true, verified: 2, pending: ['events/dt=x/o.avro'], failed: [] },
    startedAt: STARTED,
    endedAt: new Date(STARTED.getTime() + 1_500),
    ...overrides,
  };
}

test('an access record is an IntegrityCheck with the documented fields, and it validates', () => {
  const r = validateRecord(accessRecord(info({ source: 'export-service-1' })));
  assert.equal(r.event_type, 'IntegrityCheck');
  assert.match(r.id, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-/);
  assert.equal(r.timestamp, STARTED.getTime());
  assert.equal(
    r.package_name,
    null,
    'not the package filter: access records stay out of package exports',
  );
  assert.equal(r.package_version, null);
  assert.equal(r.user, 'ada');
  assert.equal(r.ip_address, '192.0.2.10');
  assert.equal(r.source, 'export-service-1');
  assert.equal(r.success, true);
  assert.equal(r.error_message, null);
  assert.deepEqual(r.details, {
    audit_access: 'export',
    'audit_access.channel': 'http',
    'audit_access.format': 'csv',
    'audit_access.filters':
      '{"package":"left-pad","type":["PackageInstall","IntegrityCheck"],"success":"false","from":"2026-01-01T00:00:00.000Z"}',
    'audit_access.request_id': '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
    'audit_access.events': '41',
    'audit_access.objects_listed': '12',
    'audit_access.objects_selected': '5',
    'audit_access.objects_skipped': '2',
    'audit_access.objects_read': '3',
    'audit_access.verification': 'pending',
    'audit_access.objects_verified': '2',
    'audit_access.objects_pending': '1',
    'audit_access.objects_failed': '0',
    'audit_access.duration_ms': '1500',
  });
  assert.ok(isAccessRecord(r));
  assert.ok(!isAccessRecord(record({ event_type: 'IntegrityCheck' })), 'an ordinary check is not');
  // the AuditTrail path takes it as it is
  assert.deepEqual(AuditEvent.fromRecord(r).toRecord(), r);
});

test('the rendered filters parse back to the filter of the export', () => {
  const asked = info().filter;
  const r = accessRecord(info());
  const params = JSON.parse(r.details[ACCESS_DETAILS.filters] ?? '') as Record<string, string>;
  assert.deepEqual(parseFilter(params), asked);
  assert.equal(accessRecord(info({ filter: {} })).details[ACCESS_DETAILS.filters], '{}');
});

test('a failed export: success false, the error code and message, the verification failure', () => {
  const r = validateRecord(
    accessRecord(
      info({
        error: new AuditError(AuditErrorCode.VerifyFailed, 'the archive does not verify'),
        verification: {
          configured: true,
          verified: 1,
          pending: [],
          failed: [{ key: 'events/dt=2026-11-29/hour=04/t/0/a.avro', detail: 'sha256 mismatch' }],
        },
      }),
    ),
  );
  assert.equal(r.success, false);
  assert.equal(r.error_message, 'VERIFY_FAILED: the archive does not verify');
  assert.equal(r.details[ACCESS_DETAILS.errorCode], 'VERIFY_FAILED');
  assert.equal(r.details[ACCESS_DETAILS.verification], 'failed');
  assert.equal(r.details[ACCESS_DETAILS.objectsFailed], '1');
  assert.equal(
    r.details[ACCESS_DETAILS.firstFailure],
    'events/dt=2026-11-29/hour=04/t/0/a.avro: sha256 mismatch',
  );
  // a plain error has no code; an empty one still has a message
  const plain = validateRecord(accessRecord(info({ error: new Error('') })));
  assert.equal(plain.error_message, 'Error');
  assert.equal(plain.details[ACCESS_DETAILS.errorCode], undefined);
});

test('what is unknown is left out: no address, no counts, no verification, no format', () => {
  const r = validateRecord(
    accessRecord({ who: 'bob', channel: 'cli', filter: {}, startedAt: STARTED }),
  );
  assert.equal(r.ip_address, null);
  assert.equal(r.source, null, 'the trail fills in its own source');
  assert.deepEqual(r.details, {
    audit_access: 'export',
    'audit_access.channel': 'cli',
    'audit_access.filters': '{}',
    'audit_access.duration_ms': '0',
  });
  const events = accessRecord(info({ counts: { eventsMatched: 7 } }));
  assert.equal(events.details[ACCESS_DETAILS.events], '7');
  assert.equal(events.details[ACCESS_DETAILS.objectsRead], undefined, 'a count not given is not 0');
  const unverified = accessRecord(
    info({ verification: { configured: false, verified: 0, pending: [], failed: [] } }),
  );
  assert.equal(unverified.details[ACCESS_DETAILS.verification], 'not-configured');
  assert.equal(unverified.details[ACCESS_DETAILS.objectsVerified], undefined);
});

test('a host name as the origin goes into the details, an IPv6 address into ip_address', () => {
  const host = validateRecord(accessRecord(info({ from: 'siem.example.org' })));
  assert.equal(host.ip_address, null);
  assert.equal(host.details[ACCESS_DETAILS.from], 'siem.example.org');
  const v6 = validateRecord(accessRecord(info({ from: '2001:db8::7' })));
  assert.equal(v6.ip_address, '2001:db8::7');
  assert.equal(v6.details[ACCESS_DETAILS.from], undefined);
});

test('an asker cannot make the access unrecordable: hostile names and huge filters are escaped and cut, never refused', () => {
  const huge = 'x'.repeat(50_000);
  const hostile: AccessInfo = info({
    who: `mallory\u0000\u0085\nroot${'y'.repeat(1000)}`,
    from: 'evil\u0007host',
    requestId: `id\ud800${'z'.repeat(500)}`,
    filter: { packageName: `pkg\u0085${huge}`, user: '=HYPERLINK("x")' },
    source: ' ',
    error: new Error(`bad\u0000${'e'.repeat(10_000)}`),
    verification: {
      configured: true,
      verified: 0,
      pending: Array.from({ length: 10_000 }, (_, i) => `k${i}`),
      failed: [{ key: 'k', detail: 'd'.repeat(100_000) }],
    },
  });
  const r = validateRecord(accessRecord(hostile));
  assert.ok(r.user?.startsWith('mallory\\u0000\\u0085\\u000aroot'), r.user ?? '');
  assert.equal(r.user?.length, LIMITS.user);
  assert.ok(r.user?.endsWith('…'));
  assert.equal(r.details[ACCESS_DETAILS.from], 'evil\\u0007host');
  assert.equal(r.source, '(blank)');
  assert.ok(r.details[ACCESS_DETAILS.requestId]?.startsWith('id\\ud800zzz'));
  const filters = r.details[ACCESS_DETAILS.filters] ?? '';
  assert.equal(filters.length, LIMITS.detailValue);
  assert.ok(filters.startsWith('{"package":"pkg\\u0085xxx'), filters.slice(0, 40));
  const whole = JSON.stringify({ package: `pkg\u0085${huge}`, user: '=HYPERLINK("x")' });
  assert.equal(
    r.details[ACCESS_DETAILS.filtersSha256],
    createHash('sha256').update(whole).digest('hex'),
    'the hash of the whole filters identifies what was asked',
  );
  assert.equal(r.details[ACCESS_DETAILS.objectsPending], '10000');
  assert.ok((r.error_message ?? '').startsWith('bad\\u0000eee'));
  assert.equal(r.error_message?.length, LIMITS.errorMessage);
  // the encoded record round-trips through the v1 codec
  const schemas = auditEventSchemas();
  const decoded = decodeSingleObject<typeof r>(schemas, encodeSingleObject(schemas, r));
  assert.ok(JSON.stringify({ ...decoded }) === JSON.stringify(r), 'decodes to the same record');
});

test('fitText keeps what is valid, escapes what is not and never splits a surrogate pair', () => {
  const cases: [string, number, boolean, string][] = [
    ['ada', 10, false, 'ada'],
    ['Zoë 😀', 10, false, 'Zoë 😀'],
    ['a\tb\nc', 10, true, 'a\tb\nc'],
    ['a\tb', 10, false, 'a\\u0009b'],
    ['\u009f', 10, true, '\\u009f'],
    ['\udc00x', 10, false, '\\udc00x'],
    ['', 10, false, '(blank)'],
    ['  ', 10, false, '(blank)'],
    ['abcdef', 4, false, 'abc…'],
    ['ab😀cd', 4, false, 'ab…'],
    ['abc😀', 5, false, 'abc😀'],
  ];
  for (const [value, max, multiline, expected] of cases)
    assert.equal(fitText(value, max, multiline), expected, JSON.stringify(value));
});

test('access records are selected by the filter that finds them: IntegrityCheck and the user', () => {
  const r = accessRecord(info());
  assert.ok(matchesFilter(r, parseFilter({ type: 'IntegrityCheck', user: 'ada' })));
  assert.ok(!matchesFilter(r, parseFilter({ package: 'left-pad' })), 'not in package exports');
});
