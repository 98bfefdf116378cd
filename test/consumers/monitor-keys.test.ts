import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monitorKeys } from '../../consumers/monitor/monitor-keys.js';
import { DEFAULT_MONITOR_RULES, type MonitorRules } from '../../consumers/monitor/rules.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { record } from '../helpers.js';

const RULES = DEFAULT_MONITOR_RULES;
const ID = '0190b6a2-7c3e-7d4a-9b1e-2f3a4b5c6d7e';

function without(...off: (keyof MonitorRules)[]): MonitorRules {
  const rules = structuredClone(DEFAULT_MONITOR_RULES) as MonitorRules;
  for (const rule of off) rules[rule].enabled = false;
  return rules;
}

test('each kind of event is routed to the keys of the rules that count it', () => {
  const failed = { success: false, error_message: 'mismatch' };
  const cases: [Partial<AuditEventRecord>, string[]][] = [
    // an install: a possible vulnerable install (package), and the user's address
    [{}, ['package:left-pad', 'user:admin']],
    [{ event_type: 'PackageUpdate', user: null }, ['package:left-pad']],
    [{ event_type: 'PackageUninstall', user: null }, []],
    [{ user: null, ip_address: null, ...failed }, ['source:ci-runner-01']],
    [{ user: 'ada', ip_address: null }, ['package:left-pad']],
    [{ event_type: 'IntegrityCheck', user: null }, []],
    [
      { event_type: 'IntegrityCheck', user: null, ...failed },
      ['package:left-pad', 'source:ci-runner-01'],
    ],
    // an access record that failed is a failure, not an integrity failure
    [
      { event_type: 'IntegrityCheck', user: null, details: { audit_access: 'export' }, ...failed },
      ['source:ci-runner-01'],
    ],
    [
      {
        event_type: 'VulnerabilityScan',
        user: null,
        details: { advisories: '2', max_severity: 'CRITICAL' },
      },
      ['package:left-pad'],
    ],
    [
      {
        event_type: 'VulnerabilityScan',
        user: null,
        details: { advisories: '2', max_severity: 'moderate' },
      },
      [],
    ],
    [
      { event_type: 'RuntimeProtection', user: null, details: { action: 'blocked' } },
      ['source:ci-runner-01'],
    ],
    [{ event_type: 'RuntimeProtection', user: null, details: { action: 'allowed' } }, []],
    [
      {
        event_type: 'ConfigurationChange',
        user: null,
        package_name: null,
        package_version: null,
        details: { setting: 'integrity.policy', old_value: 'strict', new_value: 'Off' },
      },
      ['source:ci-runner-01'],
    ],
    [
      {
        event_type: 'ConfigurationChange',
        user: null,
        source: null,
        package_name: null,
        package_version: null,
        details: { setting: 'audit.enabled', new_value: 'false' },
      },
      [`event:${ID}`],
    ],
    [
      {
        event_type: 'ConfigurationChange',
        user: null,
        package_name: null,
        package_version: null,
        details: { setting: 'integrity.policy', new_value: 'strict' },
      },
      [],
    ],
  ];
  for (const [overrides, keys] of cases)
    assert.deepEqual(
      monitorKeys(record({ id: ID, ...overrides }), RULES),
      keys,
      JSON.stringify(overrides),
    );
});

test('keys are deduplicated and in a stable order', () => {
  // an integrity failure with a user: package (two rules), source (two rules), user
  const e = record({
    event_type: 'IntegrityCheck',
    success: false,
    error_message: 'mismatch',
  });
  assert.deepEqual(monitorKeys(e, RULES), [
    'package:left-pad',
    'source:ci-runner-01',
    'user:admin',
  ]);
  assert.deepEqual(monitorKeys(e, RULES), monitorKeys(structuredClone(e), RULES));
});

test('disabled rules route nothing', () => {
  const e = record({ event_type: 'IntegrityCheck', success: false, error_message: 'mismatch' });
  assert.deepEqual(monitorKeys(e, without('integrity-failures-package', 'new-ip-for-user')), [
    'source:ci-runner-01',
  ]);
  assert.deepEqual(
    monitorKeys(
      e,
      without(
        'integrity-failures-package',
        'integrity-failures-source',
        'failure-burst',
        'new-ip-for-user',
      ),
    ),
    [],
  );
  assert.deepEqual(monitorKeys(record(), without('install-after-vulnerable-scan')), ['user:admin']);
});
