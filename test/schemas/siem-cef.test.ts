/**
 * The CEF rendering read back by a parser written here from the format's
 * rules (ArcSight Common Event Format): the header split on unescaped `|`
 * with `\|` and `\\` as its only escapes, the extension split into key=value
 * pairs at unescaped `=`, values unescaped (`\\`, `\=`, `\n`, `\r`), and any
 * other escape or a raw line break refused. Hostile values must come back
 * exactly as they were recorded.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { escapeCefHeader, escapeCefValue } from '../../schemas/siem/cef.js';
import { renderSiem } from '../../schemas/siem/index.js';
import { SIEM_PRODUCT } from '../../schemas/siem/product.js';
import { record } from '../helpers.js';
import { accessRecords, allRecords, hostileRecords } from './siem-corpus.js';
import { CEF_KEYS, type CefEvent, parseCef } from './cef-parser.js';

function cef(r: AuditEventRecord): CefEvent {
  return parseCef(renderSiem('cef', r));
}

test('the parser refuses what is not CEF (it is not a test that cannot fail)', () => {
  const good = renderSiem('cef', record());
  assert.doesNotThrow(() => parseCef(good));
  assert.throws(() => parseCef(`${good}\n`), /line break/u);
  assert.throws(() => parseCef(good.replace('|1|rt=', '|1|rt= x=y=')), /bad key|boundary/u);
  assert.throws(
    () => parseCef(good.replace('CEF:0|audit-trail', 'CEF:0|audit\\-trail')),
    /bad header escape/u,
  );
  assert.throws(() => parseCef('CEF:0|a|b|c|d|e'), /header of 5 fields/u);
  assert.throws(
    () => parseCef(good.replace('suser=admin', 'suser=ad\\tmin')),
    /bad extension escape/u,
  );
  // an unescaped pipe in a header field shifts every field after it into the extension
  assert.throws(
    () => parseCef(good.replace('|PackageInstall|', '|Package|Install|')),
    /bad key "1\|rt"/u,
  );
});

test('every line parses: eight header fields, dictionary keys, values as recorded', () => {
  for (const r of allRecords()) {
    const line = renderSiem('cef', r);
    const e = parseCef(line);
    assert.deepEqual(
      [e.version, e.vendor, e.product, e.productVersion],
      ['CEF:0', SIEM_PRODUCT.vendor, SIEM_PRODUCT.name, SIEM_PRODUCT.version],
    );
    assert.ok(/^(?:[0-9]|10)$/u.test(e.severity), e.severity);
    assert.ok(e.signatureId.startsWith(r.event_type), e.signatureId);
    for (const key of e.extension.keys())
      assert.ok(CEF_KEYS.has(key), `${key} is not a CEF key this rendering may use`);
    const x = e.extension;
    assert.equal(x.get('rt'), String(r.timestamp));
    assert.equal(x.get('externalId'), r.id);
    assert.equal(x.get('outcome'), r.success ? 'success' : 'failure');
    assert.equal(x.get('suser'), r.user ?? undefined);
    assert.equal(x.get('src') ?? x.get('c6a2'), r.ip_address ?? undefined);
    assert.equal(x.get('dvchost'), r.source ?? undefined);
    assert.equal(x.get('reason'), r.error_message ?? undefined);
    assert.equal(x.get('cs1'), r.package_name ?? undefined);
    assert.equal(x.get('cs2'), r.package_version ?? undefined);
    assert.deepEqual(JSON.parse(x.get('cs3') ?? '{}'), r.details);
  }
});

test('hostile values (pipes, backslashes, equals signs, line breaks, formula signs) come back exactly', () => {
  const [runtime, config, labels] = hostileRecords();
  const e = cef(runtime!);
  assert.equal(e.extension.get('suser'), '=HYPERLINK("http://203.0.113.9/x","update")|a\\b=c');
  assert.equal(e.extension.get('cs1'), 'evil|pkg\\=x');
  assert.equal(e.extension.get('dvchost'), 'host|x\\');
  assert.equal(e.extension.get('reason'), 'line one\r\n=2+3 cs1=forged\\ x=y | z\\');
  assert.equal(e.extension.get('cs4'), '\n@SUM(1)\\ rt=0');
  assert.deepEqual(JSON.parse(e.extension.get('cs3')!), runtime!.details);
  // the forged `cs1=` and `rt=` inside values did not become keys
  assert.equal(e.extension.get('rt'), String(runtime!.timestamp));
  assert.equal(e.signatureId, 'RuntimeProtection');
  assert.match(
    e.name,
    /^runtime protection blocked an operation by evil\|pkg\\=x@1\.3\.0 failed$/u,
  );

  const c = cef(config!);
  assert.equal(c.extension.get('suser'), '\\');
  assert.equal(
    c.name,
    'configuration change of a b|c\\',
    'a line break in a header field becomes a space',
  );
  assert.deepEqual(JSON.parse(c.extension.get('cs3')!), config!.details);

  assert.equal(cef(labels!).extension.get('cs1'), 'a=b');
});

test('escaping, field by field', () => {
  assert.equal(escapeCefHeader('a|b\\c\r\nd\ne'), 'a\\|b\\\\c d e');
  assert.equal(escapeCefValue('a=b\\c\r\nd|e'), 'a\\=b\\\\c\\r\\nd|e');
  assert.equal(escapeCefValue('\\n'), '\\\\n', 'a backslash before n is not a line break');
});

test('the line says what happened: signature, name, severity, category, action', () => {
  const cases: [Partial<AuditEventRecord>, string, string, string, string][] = [
    [{ event_type: 'PackageInstall' }, 'PackageInstall', '1', 'package', 'install'],
    [{ event_type: 'PackageUninstall' }, 'PackageUninstall', '1', 'package', 'uninstall'],
    [{ event_type: 'PackageUpdate' }, 'PackageUpdate', '1', 'package', 'update'],
    [
      { event_type: 'IntegrityCheck', success: false, error_message: 'x' },
      'IntegrityCheck',
      '8',
      'integrity',
      'check',
    ],
    [
      { event_type: 'VulnerabilityScan', details: { advisories: '2', max_severity: 'critical' } },
      'VulnerabilityScan',
      '10',
      'vulnerability',
      'scan',
    ],
    [
      { event_type: 'RuntimeProtection', details: { action: 'blocked' } },
      'RuntimeProtection',
      '5',
      'runtime-protection',
      'blocked',
    ],
    [{ event_type: 'ConfigurationChange' }, 'ConfigurationChange', '3', 'configuration', 'change'],
  ];
  for (const [overrides, signature, severity, cat, act] of cases) {
    const e = cef(record(overrides));
    assert.deepEqual(
      [e.signatureId, e.severity, e.extension.get('cat'), e.extension.get('act')],
      [signature, severity, cat, act],
      JSON.stringify(overrides),
    );
  }
  const [, refused] = accessRecords();
  const a = cef(refused!);
  assert.deepEqual(
    [
      a.signatureId,
      a.severity,
      a.extension.get('cat'),
      a.extension.get('act'),
      a.extension.get('shost'),
    ],
    ['IntegrityCheck:audit_access', '8', 'audit-access', 'export', 'laptop.example.org'],
  );
  const v6 = cef(record({ ip_address: '2001:db8::1' })).extension;
  assert.deepEqual(
    [v6.get('src'), v6.get('c6a2'), v6.get('c6a2Label')],
    [undefined, '2001:db8::1', 'Source IPv6 Address'],
  );
});

test('the product version in every rendering is the package version', () => {
  const pkg = JSON.parse(
    readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'),
  ) as { version: string };
  assert.equal(SIEM_PRODUCT.version, pkg.version);
});
