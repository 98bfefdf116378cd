import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { AuditErrorCode, ConfigError } from '../../common/errors.js';
import { MonitorState } from '../../consumers/monitor/monitor-state.js';
import {
  DEFAULT_MONITOR_RULES,
  MONITOR_RULE_IDS,
  type MonitorRules,
  loadMonitorRules,
  parseMonitorRules,
} from '../../consumers/monitor/rules.js';
import { tempDir } from '../helpers.js';

function isConfigError(field: string): (error: unknown) => boolean {
  return (error: unknown) => {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.code, AuditErrorCode.InvalidOption);
    assert.equal(error.field, field, error.message);
    assert.ok(error.message.startsWith(`${field}: `), error.message);
    return true;
  };
}

test('the seven rules, each with defaults', () => {
  assert.deepEqual(MONITOR_RULE_IDS, [
    'integrity-failures-package',
    'integrity-failures-source',
    'install-after-vulnerable-scan',
    'protection-disabled',
    'new-ip-for-user',
    'failure-burst',
    'runtime-block-rate',
  ]);
  assert.deepEqual(Object.keys(DEFAULT_MONITOR_RULES), [...MONITOR_RULE_IDS]);
  for (const rule of MONITOR_RULE_IDS) assert.equal(DEFAULT_MONITOR_RULES[rule].enabled, true);
  const d = DEFAULT_MONITOR_RULES;
  assert.deepEqual(
    [
      d['integrity-failures-package'].threshold,
      d['integrity-failures-package'].windowSeconds,
      d['integrity-failures-source'].threshold,
      d['failure-burst'].threshold,
      d['failure-burst'].windowSeconds,
      d['runtime-block-rate'].threshold,
      d['runtime-block-rate'].windowSeconds,
      d['install-after-vulnerable-scan'].windowSeconds,
      d['new-ip-for-user'].maxIpsPerUser,
    ],
    [3, 600, 5, 20, 60, 10, 60, 30 * 86400, 1000],
  );
  assert.deepEqual(
    MONITOR_RULE_IDS.map((r) => d[r].severity),
    ['high', 'high', 'high', 'critical', 'medium', 'medium', 'high'],
  );
});

test('an empty file is the defaults; a partial file overrides only what it names', () => {
  assert.deepEqual(parseMonitorRules('{}', 'r.json'), DEFAULT_MONITOR_RULES);
  assert.deepEqual(parseMonitorRules('{"rules":{}}', 'r.json'), DEFAULT_MONITOR_RULES);
  const rules = parseMonitorRules(
    JSON.stringify({
      rules: {
        'failure-burst': { threshold: 50, windowSeconds: 120 },
        'integrity-failures-source': { windowSeconds: 300, cooldownSeconds: 3600 },
        'new-ip-for-user': { enabled: false },
        'protection-disabled': { settings: ['sandbox.enabled'], severity: 'high' },
      },
    }),
    'r.json',
  );
  assert.deepEqual(rules['failure-burst'], {
    enabled: true,
    severity: 'medium',
    threshold: 50,
    windowSeconds: 120,
    // the cooldown follows a changed window unless the file sets it
    cooldownSeconds: 120,
  });
  assert.deepEqual(rules['integrity-failures-source'], {
    ...DEFAULT_MONITOR_RULES['integrity-failures-source'],
    windowSeconds: 300,
    cooldownSeconds: 3600,
  });
  assert.equal(rules['new-ip-for-user'].enabled, false);
  assert.deepEqual(rules['protection-disabled'], {
    ...DEFAULT_MONITOR_RULES['protection-disabled'],
    settings: ['sandbox.enabled'],
    severity: 'high',
  });
  for (const rule of ['integrity-failures-package', 'runtime-block-rate'] as const)
    assert.deepEqual(rules[rule], DEFAULT_MONITOR_RULES[rule]);
  // the defaults object is not changed through a parsed copy
  rules['integrity-failures-package'].threshold = 99;
  rules['protection-disabled'].offValues.push('nope');
  assert.equal(DEFAULT_MONITOR_RULES['integrity-failures-package'].threshold, 3);
  assert.ok(!DEFAULT_MONITOR_RULES['protection-disabled'].offValues.includes('nope'));
});

test('every mistake in a rules file is a ConfigError naming the file and the field', () => {
  const rule = (name: string, body: unknown): string => JSON.stringify({ rules: { [name]: body } });
  const cases: [string, string][] = [
    [rule('brute-force', {}), 'r.json: rules.brute-force'],
    [rule('__proto__', {}), 'r.json: rules.__proto__'],
    [rule('failure-burst', 20), 'r.json: rules.failure-burst'],
    [rule('failure-burst', { treshold: 3 }), 'r.json: rules.failure-burst.treshold'],
    [rule('failure-burst', { threshold: '20' }), 'r.json: rules.failure-burst.threshold'],
    [rule('failure-burst', { threshold: 0 }), 'r.json: rules.failure-burst.threshold'],
    [rule('failure-burst', { threshold: -3 }), 'r.json: rules.failure-burst.threshold'],
    [rule('failure-burst', { threshold: 2.5 }), 'r.json: rules.failure-burst.threshold'],
    [
      rule('integrity-failures-package', { windowSeconds: 0 }),
      'r.json: rules.integrity-failures-package.windowSeconds',
    ],
    [
      rule('integrity-failures-source', { cooldownSeconds: null }),
      'r.json: rules.integrity-failures-source.cooldownSeconds',
    ],
    [
      rule('runtime-block-rate', { severity: 'urgent' }),
      'r.json: rules.runtime-block-rate.severity',
    ],
    [rule('runtime-block-rate', { severity: 'High' }), 'r.json: rules.runtime-block-rate.severity'],
    [rule('new-ip-for-user', { enabled: 'yes' }), 'r.json: rules.new-ip-for-user.enabled'],
    [rule('new-ip-for-user', { maxIpsPerUser: 0 }), 'r.json: rules.new-ip-for-user.maxIpsPerUser'],
    [rule('new-ip-for-user', { threshold: 2 }), 'r.json: rules.new-ip-for-user.threshold'],
    [rule('protection-disabled', { settings: [] }), 'r.json: rules.protection-disabled.settings'],
    [
      rule('protection-disabled', { offValues: ['off', ''] }),
      'r.json: rules.protection-disabled.offValues',
    ],
    [
      rule('install-after-vulnerable-scan', { scanSeverities: 'critical' }),
      'r.json: rules.install-after-vulnerable-scan.scanSeverities',
    ],
    [
      rule('install-after-vulnerable-scan', { windowSeconds: 1e20 }),
      'r.json: rules.install-after-vulnerable-scan.windowSeconds',
    ],
    ['{"rules": []}', 'r.json: rules'],
    ['{"rule": {}}', 'r.json: rule'],
    ['[]', 'r.json'],
    ['{"rules": {', 'r.json'],
    ['', 'r.json'],
  ];
  for (const [text, field] of cases)
    assert.throws(() => parseMonitorRules(text, 'r.json'), isConfigError(field), text);
});

test('loadMonitorRules reads a file; one that cannot be read is a ConfigError naming the path', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'monitor-rules.json');
  await writeFile(path, JSON.stringify({ rules: { 'runtime-block-rate': { threshold: 4 } } }));
  const rules = await loadMonitorRules(path);
  assert.equal(rules['runtime-block-rate'].threshold, 4);
  const missing = join(dir, 'absent.json');
  await assert.rejects(loadMonitorRules(missing), (error: unknown) => {
    isConfigError(missing)(error);
    assert.match((error as Error).message, /ENOENT/u);
    return true;
  });
  await assert.rejects(loadMonitorRules(dir), isConfigError(dir));
  await writeFile(path, JSON.stringify({ rules: { 'runtime-block-rate': { threshold: 0 } } }));
  await assert.rejects(
    loadMonitorRules(path),
    isConfigError(`${path}: rules.runtime-block-rate.threshold`),
  );
});

test('MonitorState checks the rules it is given as a file would be checked', () => {
  const bad = structuredClone(DEFAULT_MONITOR_RULES) as MonitorRules;
  bad['failure-burst'].windowSeconds = 0;
  assert.throws(
    () => new MonitorState(bad),
    isConfigError('MonitorState: rules.failure-burst.windowSeconds'),
  );
});

test('the rules file of docs/monitor.md parses and changes what it says', async () => {
  const doc = await readFile(new URL('../../../docs/monitor.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## The rules file'));
  const example = /```json\n([\s\S]*?)```/u.exec(section)?.[1];
  assert.ok(example !== undefined);
  const rules = parseMonitorRules(example, 'docs/monitor.md');
  assert.equal(rules['failure-burst'].threshold, 50);
  assert.equal(rules['failure-burst'].cooldownSeconds, 120);
  assert.equal(rules['new-ip-for-user'].enabled, false);
  assert.equal(rules['integrity-failures-source'].severity, 'critical');
});
