/**
 * The OCSF rendering read back against the published OCSF 1.3.0 schema, kept
 * as a fixture (fixtures/ocsf-1.3.0-classes.json, see fixtures/README.md):
 * each event's class, category, activity and type ids, every attribute the
 * class or an applied profile requires, no attribute the class does not have,
 * attribute types, enum values and the captions beside them, and the
 * constraints of classes and objects.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { renderSiem } from '../../schemas/siem/index.js';
import { OCSF_VERSION } from '../../schemas/siem/ocsf.js';
import { SIEM_PRODUCT } from '../../schemas/siem/product.js';
import { accessRecords, allRecords, edgeRecords, hostileRecords } from './siem-corpus.js';
import { record } from '../helpers.js';
import { FIXTURE, type Json, validateOcsf } from './ocsf-validator.js';

function ocsf(r: AuditEventRecord): Json {
  const text = renderSiem('ocsf', r);
  assert.ok(!text.endsWith('\n'), 'one document, no line end');
  return JSON.parse(text) as Json;
}

test('the fixture is OCSF 1.3.0 from the schema repository, and the rendering names that version', () => {
  assert.equal(FIXTURE.version, '1.3.0');
  assert.equal(OCSF_VERSION, FIXTURE.version);
  assert.equal(FIXTURE.source.tag, '1.3.0');
  assert.match(FIXTURE.source.commit, /^[0-9a-f]{40}$/u);
  // what the mapping relies on, as the published schema says it
  const lifecycle = FIXTURE.classes['application_lifecycle']!;
  assert.equal(lifecycle.class_uid, 6002);
  assert.deepEqual(
    [1, 2, 8].map((id) => lifecycle.attributes['activity_id']!.enum![String(id)]),
    ['Install', 'Remove', 'Update'],
  );
  assert.equal(FIXTURE.classes['vulnerability_finding']!.class_uid, 2002);
  assert.equal(FIXTURE.classes['detection_finding']!.class_uid, 2004);
  assert.equal(FIXTURE.classes['device_config_state_change']!.class_uid, 5019);
});

test('every rendered event conforms to its OCSF 1.3.0 class: required attributes, no unknown ones, types, enums, constraints', () => {
  const records = allRecords();
  const classes = new Set<number>();
  for (const r of records) {
    const event = ocsf(r);
    classes.add(event['class_uid'] as number);
    assert.deepEqual(validateOcsf(event), [], `${r.event_type} ${JSON.stringify(r.details)}`);
  }
  assert.deepEqual([...classes].sort(), [2002, 2004, 5019, 6002, 6005, 6007]);
});

test('the validator finds what is wrong (it is not a test that cannot fail)', () => {
  const good = ocsf(record());
  assert.deepEqual(validateOcsf(good), []);
  const cases: [string, (e: Json) => void, RegExp][] = [
    ['missing app', (e) => delete e['app'], /^app: required/u],
    ['wrong type_uid', (e) => (e['type_uid'] = 600203), /type_uid/u],
    ['unknown activity', (e) => (e['activity_id'] = 42), /activity_id: 42 is not one of/u],
    ['unknown attribute', (e) => (e['package'] = { name: 'x' }), /package: not an attribute/u],
    [
      'profile not named',
      (e) => ((e['metadata'] as Json)['profiles'] = []),
      /device: from profile host/u,
    ],
    [
      'vendor missing',
      (e) => delete (e['app'] as Json)['vendor_name'],
      /app\.vendor_name: required/u,
    ],
    ['time as text', (e) => (e['time'] = '2026-01-01'), /time: timestamp_t must be an integer/u],
    ['caption off', (e) => (e['severity'] = 'High'), /severity: "High" is not the caption/u],
    ['category name off', (e) => (e['category_name'] = 'Findings'), /category_name Findings/u],
    ['old version', (e) => ((e['metadata'] as Json)['version'] = '1.1.0'), /metadata\.version/u],
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

test('each kind of event maps to its class and activity', () => {
  const cases: [Partial<AuditEventRecord>, number, number, number][] = [
    [{ event_type: 'PackageInstall' }, 6002, 1, 1],
    [{ event_type: 'PackageUninstall' }, 6002, 2, 1],
    [{ event_type: 'PackageUpdate' }, 6002, 8, 1],
    [{ event_type: 'PackageInstall', success: false, error_message: 'ETIMEDOUT' }, 6002, 1, 2],
    [{ event_type: 'IntegrityCheck' }, 6007, 2, 1],
    [{ event_type: 'IntegrityCheck', success: false, error_message: 'mismatch' }, 2004, 1, 4],
    [
      { event_type: 'VulnerabilityScan', details: { advisories: '0', max_severity: 'none' } },
      6007,
      2,
      1,
    ],
    [
      { event_type: 'VulnerabilityScan', success: false, error_message: 'down', details: {} },
      6007,
      6,
      2,
    ],
    [
      { event_type: 'VulnerabilityScan', details: { advisories: '3', max_severity: 'high' } },
      2002,
      1,
      4,
    ],
    [{ event_type: 'RuntimeProtection', details: { action: 'blocked' } }, 2004, 1, 3],
    [{ event_type: 'RuntimeProtection', details: { action: 'allowed' } }, 2004, 1, 1],
    [{ event_type: 'ConfigurationChange', package_name: null, package_version: null }, 5019, 1, 2],
  ];
  for (const [overrides, classUid, activityId, severityId] of cases) {
    const event = ocsf(record(overrides));
    assert.deepEqual(
      [event['class_uid'], event['activity_id'], event['severity_id']],
      [classUid, activityId, severityId],
      JSON.stringify(overrides),
    );
  }
  const [ok, refused] = accessRecords();
  assert.deepEqual(
    [ocsf(ok!)['class_uid'], ocsf(ok!)['activity_id'], ocsf(ok!)['severity_id']],
    [6005, 1, 1],
  );
  assert.deepEqual(
    [ocsf(refused!)['status'], ocsf(refused!)['status_code'], ocsf(refused!)['severity_id']],
    ['Failure', 'VERIFY_FAILED', 4],
  );
});

test('our fields land where the mapping says, and nothing is lost', () => {
  const r = record({
    event_type: 'PackageInstall',
    success: false,
    error_message: 'ETIMEDOUT while fetching tarball',
    details: { registry: 'https://registry.npmjs.org', integrity: 'sha512-x' },
  });
  const e = ocsf(r);
  assert.equal(e['time'], r.timestamp);
  assert.deepEqual(e['metadata'], {
    version: '1.3.0',
    uid: r.id,
    product: {
      name: SIEM_PRODUCT.name,
      vendor_name: SIEM_PRODUCT.vendor,
      version: SIEM_PRODUCT.version,
    },
    profiles: ['host'],
  });
  assert.deepEqual(e['app'], {
    name: 'left-pad',
    version: '1.3.0',
    vendor_name: 'registry.npmjs.org',
  });
  assert.deepEqual(e['actor'], { user: { name: 'admin' } });
  assert.deepEqual(e['device'], {
    type_id: 0,
    type: 'Unknown',
    hostname: 'ci-runner-01',
    ip: '192.0.2.1',
  });
  assert.deepEqual(
    [e['status_id'], e['status'], e['status_detail']],
    [2, 'Failure', r.error_message],
  );
  assert.deepEqual(e['unmapped'], { details: r.details });

  const scan = ocsf(record({ event_type: 'IntegrityCheck', details: { algorithm: 'sha512' } }));
  assert.deepEqual(scan['unmapped'], {
    package: { name: 'left-pad', version: '1.3.0' },
    details: { algorithm: 'sha512' },
  });

  const [access, refused, local] = accessRecords();
  const a = ocsf(access!);
  assert.deepEqual(a['src_endpoint'], { ip: '192.0.2.10' });
  assert.deepEqual(a['actor'], { user: { name: 'ada' } });
  assert.deepEqual((a['unmapped'] as Json)['details'], access!.details);
  assert.deepEqual(ocsf(refused!)['src_endpoint'], { hostname: 'laptop.example.org' });
  assert.deepEqual(ocsf(refused!)['dst_endpoint'], { hostname: 'exporter-1' });
  assert.deepEqual(ocsf(local!)['src_endpoint'], { name: 'unknown' });
});

test('vulnerability findings name the CVE ids a scan gives, one vulnerability each', () => {
  const scan = edgeRecords().find((r) => r.details['cves'] !== undefined)!;
  const e = ocsf(scan);
  const vulnerabilities = e['vulnerabilities'] as Json[];
  assert.deepEqual(
    vulnerabilities.map((v) => v['cve']),
    [{ uid: 'CVE-2024-1234' }, { uid: 'CVE-2023-99999' }],
  );
  for (const v of vulnerabilities) {
    assert.equal(v['severity'], 'Critical');
    assert.deepEqual(v['affected_packages'], [{ name: 'left-pad', version: '1.3.0' }]);
    assert.equal(v['vendor_name'], 'osv');
  }
  assert.equal(e['severity_id'], 5);
});

test('runtime protection carries the decision in the security_control profile', () => {
  const decisions: [string, number, number][] = [
    ['blocked', 2, 2],
    ['allowed', 1, 1],
    ['sandboxed', 2, 4],
    ['whatever', 0, 0],
  ];
  for (const [action, actionId, dispositionId] of decisions) {
    const e = ocsf(
      record({
        event_type: 'RuntimeProtection',
        details: { action, operation: 'child_process.spawn' },
      }),
    );
    assert.deepEqual([e['action_id'], e['disposition_id']], [actionId, dispositionId], action);
    assert.ok(((e['metadata'] as Json)['profiles'] as string[]).includes('security_control'));
    assert.equal((e['finding_info'] as Json)['desc'], 'child_process.spawn');
  }
});

test('hostile values are kept as they are in the JSON', () => {
  for (const r of hostileRecords()) {
    const e = ocsf(r);
    assert.deepEqual((e['unmapped'] as Json)['details'], r.details);
    if (r.user !== null) assert.equal(((e['actor'] as Json)['user'] as Json)['name'], r.user);
  }
});
