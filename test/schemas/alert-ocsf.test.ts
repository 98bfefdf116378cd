/**
 * The OCSF rendering of monitor alerts read back against the published OCSF
 * 1.3.0 schema (fixtures/ocsf-1.3.0-classes.json), as the event renderings are
 * in siem-ocsf.test.ts.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ALERT_SEVERITIES, type Alert, alertId } from '../../schemas/alert.js';
import { renderAlertOcsf } from '../../schemas/siem/index.js';
import { OCSF_VERSION } from '../../schemas/siem/ocsf.js';
import { SIEM_PRODUCT } from '../../schemas/siem/product.js';
import { FIXTURE, type Json, validateOcsf } from './ocsf-validator.js';

const EVENTS = [
  '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
  '0190b6a2-7c3f-7d4a-9b1e-2f3a4b5c6d7f',
  '0190b6a2-7c40-7d4a-9b1e-2f3a4b5c6d80',
];

function alert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: alertId('integrity-failures-package', 'package:left-pad', EVENTS),
    rule: 'integrity-failures-package',
    severity: 'high',
    time: '2026-01-05T09:04:00.250Z',
    key: 'package:left-pad',
    event_ids: EVENTS,
    message: '3 failed integrity checks of package left-pad within 10 minutes',
    ...overrides,
  };
}

function ocsf(a: Alert): Json {
  const text = renderAlertOcsf(a);
  assert.ok(!text.endsWith('\n'), 'one document, no line end');
  return JSON.parse(text) as Json;
}

test('an alert is an OCSF 1.3.0 Detection Finding that conforms to the published schema, at every severity', () => {
  assert.equal(FIXTURE.classes['detection_finding']!.class_uid, 2004);
  assert.ok(FIXTURE.objects['related_event'], 'the fixture holds related_event');
  for (const severity of ALERT_SEVERITIES) {
    const e = ocsf(alert({ severity }));
    assert.deepEqual(validateOcsf(e), [], severity);
  }
  // one triggering event, and a hostile message
  const single = ocsf(
    alert({
      rule: 'protection-disabled',
      key: 'event:0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e',
      event_ids: [EVENTS[0]!],
      severity: 'critical',
      message: 'configuration change by =HYPERLINK("x") turned off "audit"\n(on -> off)',
    }),
  );
  assert.deepEqual(validateOcsf(single), []);
});

test('the mapping: class, activity, severity, finding_info, related events, time, metadata', () => {
  const a = alert();
  const e = ocsf(a);
  assert.deepEqual(
    [e['class_uid'], e['category_uid'], e['activity_id'], e['type_uid']],
    [2004, 2, 1, 200401],
  );
  assert.deepEqual(
    [e['class_name'], e['category_name'], e['activity_name'], e['type_name']],
    ['Detection Finding', 'Findings', 'Create', 'Detection Finding: Create'],
  );
  assert.equal(e['time'], Date.UTC(2026, 0, 5, 9, 4, 0, 250));
  assert.deepEqual([e['severity_id'], e['severity']], [4, 'High']);
  assert.equal(e['message'], a.message);
  assert.deepEqual([e['status_id'], e['status']], [1, 'New']);
  assert.deepEqual(e['finding_info'], {
    uid: a.id,
    title: 'audit-trail monitor: integrity-failures-package',
    desc: a.message,
    types: ['integrity-failures-package'],
    related_events: EVENTS.map((uid) => ({ uid })),
  });
  assert.deepEqual(e['metadata'], {
    version: OCSF_VERSION,
    uid: a.id,
    product: {
      name: SIEM_PRODUCT.name,
      vendor_name: SIEM_PRODUCT.vendor,
      version: SIEM_PRODUCT.version,
    },
  });
  assert.deepEqual(e['unmapped'], { key: 'package:left-pad' });
  const severities = ALERT_SEVERITIES.map((severity) => {
    const r = ocsf(alert({ severity }));
    return [r['severity_id'], r['severity']];
  });
  assert.deepEqual(severities, [
    [2, 'Low'],
    [3, 'Medium'],
    [4, 'High'],
    [5, 'Critical'],
  ]);
});

test('the validator checks what the alert mapping relies on (it is not a test that cannot fail)', () => {
  const good = ocsf(alert());
  const cases: [string, (e: Json) => void, RegExp][] = [
    [
      'no finding uid',
      (e) => delete (e['finding_info'] as Json)['uid'],
      /finding_info\.uid: required/u,
    ],
    [
      'related event without uid',
      (e) => ((e['finding_info'] as Json)['related_events'] = [{ id: 'x' }]),
      /related_events\[0\]\.uid: required/u,
    ],
    [
      'types not a list',
      (e) => ((e['finding_info'] as Json)['types'] = 'x'),
      /types: must be an array/u,
    ],
    [
      'severity caption',
      (e) => (e['severity'] = 'Medium'),
      /severity: "Medium" is not the caption/u,
    ],
    ['time as text', (e) => (e['time'] = '2026-01-05'), /time: timestamp_t must be an integer/u],
  ];
  for (const [name, spoil, expected] of cases) {
    const event = structuredClone(good);
    spoil(event);
    assert.ok(
      validateOcsf(event).some((p) => expected.test(p)),
      `${name}: ${validateOcsf(event).join('; ')}`,
    );
  }
});
