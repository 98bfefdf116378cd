import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { validate as isUuid, version as uuidVersion } from 'uuid';
import {
  ALERT_ID_NAMESPACE,
  ALERT_SEVERITIES,
  type Alert,
  alertId,
  isAlertSeverity,
  renderAlertJson,
} from '../../schemas/alert.js';

const EVENTS = ['0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e', '0190b6a2-7c3f-7d4a-9b1e-2f3a4b5c6d7f'];

function sampleAlert(overrides: Partial<Alert> = {}): Alert {
  return {
    id: alertId('integrity-failures-package', 'package:left-pad', EVENTS),
    rule: 'integrity-failures-package',
    severity: 'high',
    time: '2026-01-05T09:04:00.000Z',
    key: 'package:left-pad',
    event_ids: EVENTS,
    message: '3 failed integrity checks of package left-pad within 10 minutes',
    ...overrides,
  };
}

test('an alert id is a uuid v5 of rule, key and event ids in a fixed namespace', () => {
  const id = alertId('integrity-failures-package', 'package:left-pad', EVENTS);
  assert.ok(isUuid(id));
  assert.equal(uuidVersion(id), 5);
  assert.equal(ALERT_ID_NAMESPACE, 'a6439678-cb40-4cd4-88df-9bc38aa00062');
  // pinned: the same trigger has this id in every release, so readers can drop repeats
  assert.equal(id, alertId('integrity-failures-package', 'package:left-pad', [...EVENTS]));
  assert.equal(id, '5c75bf2d-93fd-5063-a20a-3a37d11a2a21');
});

test('each part of the trigger changes the id, and the parts cannot run into each other', () => {
  const base = alertId('failure-burst', 'source:a', EVENTS);
  const others = [
    alertId('runtime-block-rate', 'source:a', EVENTS),
    alertId('failure-burst', 'source:b', EVENTS),
    alertId('failure-burst', 'source:a', [EVENTS[0]!]),
    alertId('failure-burst', 'source:a', [...EVENTS].reverse()),
    alertId('failure-burst', 'source:a', []),
    // part of the event ids moved into the key
    alertId('failure-burst', `source:a\n${EVENTS[0]!}`, [EVENTS[1]!]),
  ];
  assert.equal(new Set([base, ...others]).size, others.length + 1);
});

test('the JSON of an alert: one object, the fields of the contract in order, no line end', () => {
  const alert = sampleAlert();
  const text = renderAlertJson(alert);
  assert.ok(!text.includes('\n'));
  assert.deepEqual(Object.keys(JSON.parse(text) as object), [
    'id',
    'rule',
    'severity',
    'time',
    'key',
    'event_ids',
    'message',
  ]);
  assert.deepEqual(JSON.parse(text), alert);
  // a hostile message stays one line and reads back as it was
  const hostile = sampleAlert({ message: 'user "=HYPERLINK(x)"\nacted\u2028from' });
  const back = renderAlertJson(hostile);
  assert.ok(!back.includes('\n'));
  assert.deepEqual(JSON.parse(back), hostile);
});

test('alert severities and their guard', () => {
  assert.deepEqual(ALERT_SEVERITIES, ['low', 'medium', 'high', 'critical']);
  for (const s of ALERT_SEVERITIES) assert.ok(isAlertSeverity(s));
  for (const v of ['High', 'moderate', 'info', '', null, 3])
    assert.equal(isAlertSeverity(v), false);
});

test('the alert of docs/monitor.md has the id its rule, key and events give', async () => {
  const doc = await readFile(new URL('../../../docs/monitor.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Alerts'));
  const example = JSON.parse(/```json\n([\s\S]*?)```/u.exec(section)![1]!) as Alert;
  assert.equal(example.id, alertId(example.rule, example.key, example.event_ids));
  assert.equal(renderAlertJson(example), JSON.stringify(example));
});
