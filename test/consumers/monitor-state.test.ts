/**
 * Each rule of the monitor, scripted: a sequence that fires (the exact alert)
 * and a benign sequence of the same number of events that stays quiet.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MonitorState } from '../../consumers/monitor/monitor-state.js';
import { type Alert, alertId } from '../../schemas/alert.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { DAY, HOUR, MINUTE, SECOND, Script, run, rulesWith } from './monitor-scenario.js';

function expected(
  rule: string,
  severity: Alert['severity'],
  key: string,
  events: AuditEventRecord[],
  completing: AuditEventRecord,
  message: string,
): Alert {
  const ids = events.map((e) => e.id);
  return {
    id: alertId(rule, key, ids),
    rule,
    severity,
    time: new Date(completing.timestamp).toISOString(),
    key,
    event_ids: ids,
    message,
  };
}

test('integrity-failures-package: 3 failed checks of one package within 10 minutes', () => {
  const s = new Script();
  const failures = [0, 2, 4].map((m, i) =>
    s.integrityFailure(m * MINUTE, { source: `runner-${i}` }),
  );
  assert.deepEqual(run(s.events), [
    expected(
      'integrity-failures-package',
      'high',
      'package:left-pad',
      failures,
      failures[2]!,
      '3 failed integrity checks of package left-pad within 10 minutes',
    ),
  ]);
  // quiet: the same three failures spread over 12 minutes, so no 10 minutes hold three
  const spread = new Script();
  [0, 6, 12].forEach((m, i) => spread.integrityFailure(m * MINUTE, { source: `runner-${i}` }));
  assert.deepEqual(run(spread.events), []);
  // quiet: three checks that passed, and three failed exports (access records)
  const passed = new Script();
  [0, 2, 4].forEach((m) => passed.event(m * MINUTE, { event_type: 'IntegrityCheck' }));
  assert.deepEqual(run(passed.events), []);
  const exports = new Script();
  [0, 2, 4].forEach((m, i) =>
    exports.integrityFailure(m * MINUTE, {
      source: `runner-${i}`,
      details: { audit_access: 'export' },
    }),
  );
  assert.deepEqual(run(exports.events), []);
});

test('integrity-failures-source: 5 failed checks on one source within 10 minutes', () => {
  const s = new Script();
  const failures = [0, 1, 2, 3, 4].map((m) =>
    s.integrityFailure(m * MINUTE, { package_name: `pkg-${m}` }),
  );
  assert.deepEqual(run(s.events), [
    expected(
      'integrity-failures-source',
      'high',
      'source:ci-runner-01',
      failures,
      failures[4]!,
      '5 failed integrity checks on ci-runner-01 within 10 minutes',
    ),
  ]);
  const spread = new Script();
  [0, 3, 6, 9, 12].forEach((m) =>
    spread.integrityFailure(m * MINUTE, { package_name: `pkg-${m}` }),
  );
  assert.deepEqual(run(spread.events), []);
});

test('install-after-vulnerable-scan: an install of a version a recent scan found critical or high', () => {
  const s = new Script();
  const scan = s.scan(0, 'critical');
  const install = s.event(2 * DAY + 5 * MINUTE);
  assert.deepEqual(run(s.events), [
    expected(
      'install-after-vulnerable-scan',
      'critical',
      'package:left-pad',
      [scan, install],
      install,
      'install of left-pad@1.3.0 on ci-runner-01 by admin 2 days after a vulnerability scan of that version found 2 advisories, the worst critical',
    ),
  ]);
  // a high scan and an update: high; the severity is the higher of the rule's and the scan's
  const high = new Script();
  high.scan(0, 'HIGH', { details: { max_severity: 'HIGH' } });
  high.event(HOUR, { event_type: 'PackageUpdate', user: null });
  const [alert] = run(high.events);
  assert.equal(alert?.severity, 'high');
  assert.equal(
    alert?.message,
    'update to left-pad@1.3.0 on ci-runner-01 1 hour after a vulnerability scan of that version found advisories, the worst HIGH',
  );
  const critical = rulesWith((r) => (r['install-after-vulnerable-scan'].severity = 'critical'));
  assert.equal(run(high.events, critical)[0]?.severity, 'critical');

  // quiet, two events each: a moderate scan; another version; a scan 31 days before; a scan after the install
  const quiet: [string, (q: Script) => void][] = [
    ['moderate', (q) => (q.scan(0, 'moderate'), q.event(HOUR))],
    ['other version', (q) => (q.scan(0, 'critical'), q.event(HOUR, { package_version: '1.3.1' }))],
    ['too old', (q) => (q.scan(0, 'critical'), q.event(31 * DAY))],
    ['scan after', (q) => (q.scan(DAY, 'critical'), q.event(0))],
    [
      'failed install',
      (q) => (q.scan(0, 'critical'), q.failedInstall(HOUR, { user: null, source: null })),
    ],
  ];
  for (const [name, script] of quiet) {
    const q = new Script();
    script(q);
    assert.equal(q.events.length, 2);
    assert.deepEqual(run(q.events), [], name);
  }
});

test('install-after-vulnerable-scan: one alert per version within its cooldown (1 day)', () => {
  const s = new Script();
  const scan = s.scan(0, 'critical', { user: null });
  const first = s.event(HOUR, { user: null });
  s.event(2 * HOUR, { user: null });
  s.event(20 * HOUR, { user: null });
  const later = s.event(HOUR + DAY, { user: null });
  assert.deepEqual(
    run(s.events).map((a) => a.event_ids),
    [
      [scan.id, first.id],
      [scan.id, later.id],
    ],
  );
});

test('protection-disabled: a configuration change that turns a protection off', () => {
  const s = new Script();
  const change = s.configChange(0, {
    setting: 'Integrity.Policy',
    old_value: 'strict',
    new_value: 'OFF',
  });
  assert.deepEqual(run(s.events), [
    expected(
      'protection-disabled',
      'critical',
      'source:ci-runner-01',
      [change],
      change,
      'configuration change on ci-runner-01 by admin turned off Integrity.Policy (strict -> OFF)',
    ),
  ]);
  // without a source, the event is its own key
  const nowhere = new Script();
  const lone = nowhere.configChange(
    0,
    { setting: 'audit.enabled', new_value: 'false' },
    {
      source: null,
      user: null,
      ip_address: null,
    },
  );
  assert.deepEqual(run(nowhere.events), [
    expected(
      'protection-disabled',
      'critical',
      `event:${lone.id}`,
      [lone],
      lone,
      'configuration change turned off audit.enabled (false)',
    ),
  ]);
  // quiet, one event each: turned on, another setting, a change that failed
  const quiet: Record<string, string>[] = [
    { setting: 'integrity.policy', old_value: 'off', new_value: 'strict' },
    { setting: 'registry.url', old_value: 'default', new_value: 'off' },
  ];
  for (const details of quiet) {
    const q = new Script();
    q.configChange(0, details);
    assert.deepEqual(run(q.events), [], JSON.stringify(details));
  }
  const refused = new Script();
  refused.configChange(
    0,
    { setting: 'audit.level', new_value: 'off' },
    {
      success: false,
      error_message: 'permission denied: admin role required',
    },
  );
  assert.deepEqual(run(refused.events), []);
});

test('new-ip-for-user: a known user acting from an address not seen for them', () => {
  const s = new Script();
  s.event(0);
  const moved = s.event(HOUR, { ip_address: '198.51.100.7', package_name: 'lodash' });
  assert.deepEqual(run(s.events), [
    expected(
      'new-ip-for-user',
      'medium',
      'user:admin',
      [moved],
      moved,
      'user admin acted from a new address 198.51.100.7 (PackageInstall on ci-runner-01); 1 other address seen for them within 30 days',
    ),
  ]);
  // quiet: the second event from the same address; a user's first sighting; a user back after the window
  const same = new Script();
  same.event(0);
  same.event(HOUR, { package_name: 'lodash' });
  assert.deepEqual(run(same.events), []);
  const first = new Script();
  first.event(0, { user: 'ada', ip_address: '203.0.113.5' });
  first.event(HOUR, { user: 'bob', ip_address: '203.0.113.6' });
  assert.deepEqual(run(first.events), []);
  const back = new Script();
  back.event(0);
  back.event(31 * DAY, { ip_address: '198.51.100.7' });
  assert.deepEqual(run(back.events), []);
});

test('new-ip-for-user: at most maxIpsPerUser addresses per user, the least recently seen dropped', () => {
  const s = new Script();
  for (const [i, ip] of ['192.0.2.1', '192.0.2.2', '192.0.2.3', '192.0.2.1'].entries())
    s.event(i * MINUTE, { ip_address: ip });
  // within the default bound the first address is still known when it comes back
  assert.deepEqual(
    run(s.events).map((a) => a.message.match(/address (\S+)/u)?.[1]),
    ['192.0.2.2', '192.0.2.3'],
  );
  const two = rulesWith((r) => (r['new-ip-for-user'].maxIpsPerUser = 2));
  assert.deepEqual(
    run(s.events, two).map((a) => a.message.match(/address (\S+) .*; (\d+) other/u)?.slice(1)),
    [
      ['192.0.2.2', '1'],
      ['192.0.2.3', '2'],
      ['192.0.2.1', '2'],
    ],
  );
});

test('failure-burst: 20 failed operations on one source within 1 minute', () => {
  const s = new Script();
  const failures = Array.from({ length: 20 }, (_, i) =>
    s.failedInstall(i * 2 * SECOND, { package_name: `pkg-${i}` }),
  );
  assert.deepEqual(run(s.events), [
    expected(
      'failure-burst',
      'medium',
      'source:ci-runner-01',
      failures,
      failures[19]!,
      '20 failed operations on ci-runner-01 within 1 minute',
    ),
  ]);
  // quiet: one failure every 4 seconds, so no minute holds more than 16
  const slow = new Script();
  for (let i = 0; i < 20; i++) slow.failedInstall(i * 4 * SECOND, { package_name: `pkg-${i}` });
  assert.deepEqual(run(slow.events), []);
});

test('runtime-block-rate: 10 blocked operations on one source within 1 minute', () => {
  const s = new Script();
  const blocks = Array.from({ length: 10 }, (_, i) => s.runtime(i * 5 * SECOND, 'blocked'));
  assert.deepEqual(run(s.events), [
    expected(
      'runtime-block-rate',
      'high',
      'source:ci-runner-01',
      blocks,
      blocks[9]!,
      '10 operations blocked by runtime protection on ci-runner-01 within 1 minute',
    ),
  ]);
  // quiet: blocks below the rate (one every 7 seconds), and ten operations allowed
  const slow = new Script();
  for (let i = 0; i < 10; i++) slow.runtime(i * 7 * SECOND, 'blocked');
  assert.deepEqual(run(slow.events), []);
  const allowed = new Script();
  for (let i = 0; i < 10; i++) allowed.runtime(i * 5 * SECOND, 'allowed');
  assert.deepEqual(run(allowed.events), []);
});

test('a disabled rule raises nothing; an event applied under a key it is not routed to counts nowhere', () => {
  const s = new Script();
  for (let i = 0; i < 10; i++) s.runtime(i * SECOND, 'blocked');
  const off = rulesWith((r) => (r['runtime-block-rate'].enabled = false));
  assert.deepEqual(run(s.events, off), []);
  const state = new MonitorState(rulesWith(() => undefined));
  for (const e of s.events) assert.deepEqual(state.apply('source:elsewhere', e), []);
  assert.equal(state.size, 0);
});
