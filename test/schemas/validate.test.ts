import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AuditErrorCode, ValidationError } from '../../common/errors.js';
import { LIMITS } from '../../schemas/limits.js';
import { isLowerCaseUuid, validateRecord } from '../../schemas/validate.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { auditEventSchemas } from '../../schemas/schema-set.js';
import { decodeSingleObject, encodeSingleObject } from '../../schemas/single-object.js';
import { record } from '../helpers.js';

const schemas = auditEventSchemas();

const valid: [string, Partial<AuditEventRecord>][] = [
  ['a full install', {}],
  ['scoped npm package', { package_name: '@babel/core' }],
  ['maven coordinates', { package_name: 'org.apache.kafka:kafka-clients' }],
  ['package name beyond ASCII', { package_name: 'paquête-日本' }],
  ['semver with pre-release and build', { package_version: '1.0.0-rc.1+build.5' }],
  ['PEP 440 version', { package_version: '2.0rc1.post1' }],
  ['Debian version with epoch', { package_version: '1:2.3-4~bpo12+1' }],
  ['v-prefixed version', { package_version: 'v5.0.1' }],
  ['IPv6 address', { ip_address: '2001:db8::1' }],
  ['IPv4-mapped IPv6', { ip_address: '::ffff:192.0.2.1' }],
  [
    'no optional fields',
    {
      event_type: 'ConfigurationChange',
      package_name: null,
      package_version: null,
      user: null,
      ip_address: null,
      source: null,
      details: {},
    },
  ],
  [
    'failure with message',
    { success: false, error_message: 'integrity mismatch\nexpected sha512-abc' },
  ],
  ['user at the size limit', { user: 'u'.repeat(LIMITS.user) }],
  [
    'formula-like user (neutralised on export, not refused)',
    { user: '=HYPERLINK("http://x","y")' },
  ],
  ['epoch timestamp', { timestamp: 0 }],
  ['details value with tab and line breaks', { details: { log: 'a\tb\r\nc\nd' } }],
  ['astral characters (a surrogate pair)', { user: 'ada 🙂', details: { '🙂': '𝄞' } }],
  ['details key constructor', { details: { constructor: 'x', prototype: 'y' } }],
];

for (const [name, overrides] of valid) {
  test(`valid: ${name}`, () => {
    const input = record(overrides);
    const expected = structuredClone(input);
    // accepted as given, unchanged, and the same after the Avro round trip every archived event makes
    assert.equal(validateRecord(input), input);
    assert.deepEqual(input, expected);
    const decoded = decodeSingleObject<AuditEventRecord>(
      schemas,
      encodeSingleObject(schemas, input),
    );
    assert.deepEqual({ ...decoded }, expected);
  });
}

const invalid: [string, Partial<AuditEventRecord> | Record<string, unknown>, string, string][] = [
  [
    'unknown event type',
    { event_type: 'PackageDelete' },
    AuditErrorCode.UnknownEventType,
    'event_type',
  ],
  [
    'lower-case event type',
    { event_type: 'packageinstall' },
    AuditErrorCode.UnknownEventType,
    'event_type',
  ],
  ['id not a UUID', { id: 'abc' }, AuditErrorCode.InvalidField, 'id'],
  [
    'upper-case UUID',
    { id: '0190B6A2-7C3E-7D4A-9B1E-2F3A4B5C6D7E' },
    AuditErrorCode.InvalidField,
    'id',
  ],
  ['timestamp NaN', { timestamp: Number.NaN }, AuditErrorCode.InvalidField, 'timestamp'],
  ['timestamp before 1970', { timestamp: -1 }, AuditErrorCode.InvalidField, 'timestamp'],
  [
    'timestamp after 9999',
    { timestamp: 253402300800000 },
    AuditErrorCode.InvalidField,
    'timestamp',
  ],
  ['fractional timestamp', { timestamp: 1.5 }, AuditErrorCode.InvalidField, 'timestamp'],
  ['empty package name', { package_name: '' }, AuditErrorCode.InvalidField, 'package_name'],
  ['blank package name', { package_name: '   ' }, AuditErrorCode.InvalidField, 'package_name'],
  [
    'package name with a space',
    { package_name: 'left pad' },
    AuditErrorCode.InvalidField,
    'package_name',
  ],
  [
    'package name with a no-break space',
    { package_name: 'left\u00a0pad' },
    AuditErrorCode.InvalidField,
    'package_name',
  ],
  [
    'package name with an ideographic space',
    { package_name: '日本\u3000pkg' },
    AuditErrorCode.InvalidField,
    'package_name',
  ],
  [
    'package name too long',
    { package_name: 'p'.repeat(LIMITS.packageName + 1) },
    AuditErrorCode.FieldTooLarge,
    'package_name',
  ],
  [
    'package name missing on install',
    { package_name: null },
    AuditErrorCode.MissingField,
    'package_name',
  ],
  [
    'package name missing on uninstall',
    { event_type: 'PackageUninstall', package_name: null },
    AuditErrorCode.MissingField,
    'package_name',
  ],
  [
    'version is a word',
    { package_version: 'latest' },
    AuditErrorCode.InvalidField,
    'package_version',
  ],
  [
    'version with a space',
    { package_version: '1.0 beta' },
    AuditErrorCode.InvalidField,
    'package_version',
  ],
  [
    'version is a range',
    { package_version: '^1.2.3' },
    AuditErrorCode.InvalidField,
    'package_version',
  ],
  ['empty version', { package_version: '' }, AuditErrorCode.InvalidField, 'package_version'],
  [
    'version too long',
    { package_version: '1.' + '0'.repeat(LIMITS.packageVersion) },
    AuditErrorCode.FieldTooLarge,
    'package_version',
  ],
  ['IPv4 out of range', { ip_address: '256.1.1.1' }, AuditErrorCode.InvalidField, 'ip_address'],
  ['IPv4 with a port', { ip_address: '192.0.2.1:80' }, AuditErrorCode.InvalidField, 'ip_address'],
  ['IPv6 with two ::', { ip_address: '2001::db8::1' }, AuditErrorCode.InvalidField, 'ip_address'],
  ['host name as address', { ip_address: 'localhost' }, AuditErrorCode.InvalidField, 'ip_address'],
  ['empty user', { user: '' }, AuditErrorCode.InvalidField, 'user'],
  ['user with a newline', { user: 'ada\nadmin' }, AuditErrorCode.InvalidField, 'user'],
  ['user too long', { user: 'u'.repeat(LIMITS.user + 1) }, AuditErrorCode.FieldTooLarge, 'user'],
  ['user not a string', { user: 42 }, AuditErrorCode.InvalidField, 'user'],
  ['details not an object', { details: 'x' }, AuditErrorCode.InvalidField, 'details'],
  [
    'details value not a string',
    { details: { attempts: 3 } },
    AuditErrorCode.InvalidField,
    'details.attempts',
  ],
  [
    'details value too long',
    { details: { log: 'x'.repeat(LIMITS.detailValue + 1) } },
    AuditErrorCode.FieldTooLarge,
    'details.log',
  ],
  [
    'details key too long',
    { details: { ['k'.repeat(LIMITS.detailKey + 1)]: 'v' } },
    AuditErrorCode.FieldTooLarge,
    `details.${'k'.repeat(LIMITS.detailKey + 1)}`,
  ],
  [
    'too many details',
    {
      details: Object.fromEntries(
        Array.from({ length: LIMITS.detailEntries + 1 }, (_, i) => [`k${i}`, 'v']),
      ),
    },
    AuditErrorCode.FieldTooLarge,
    'details',
  ],
  [
    'details too large in total',
    {
      details: Object.fromEntries(
        Array.from({ length: 10 }, (_, i) => [`k${i}`, 'v'.repeat(4000)]),
      ),
    },
    AuditErrorCode.FieldTooLarge,
    'details',
  ],
  ['lone high surrogate in user', { user: 'ada\ud800' }, AuditErrorCode.InvalidField, 'user'],
  ['lone low surrogate in source', { source: '\udc00h' }, AuditErrorCode.InvalidField, 'source'],
  [
    'lone surrogate in package name',
    { package_name: 'p\ud800' },
    AuditErrorCode.InvalidField,
    'package_name',
  ],
  [
    'lone surrogate in error message',
    { success: false, error_message: 'x\udfff' },
    AuditErrorCode.InvalidField,
    'error_message',
  ],
  [
    'lone surrogate in a details value',
    { details: { note: '\ud800' } },
    AuditErrorCode.InvalidField,
    'details.note',
  ],
  [
    'lone surrogate in a details key',
    { details: { 'k\ud800': 'v' } },
    AuditErrorCode.InvalidField,
    'details',
  ],
  ['NUL in user', { user: 'a\u0000b' }, AuditErrorCode.InvalidField, 'user'],
  [
    'NUL in a details value',
    { details: { note: 'a\u0000' } },
    AuditErrorCode.InvalidField,
    'details.note',
  ],
  ['C1 NEL in user', { user: 'a\u0085b' }, AuditErrorCode.InvalidField, 'user'],
  ['C1 CSI in source', { source: '\u009b31m' }, AuditErrorCode.InvalidField, 'source'],
  [
    'C1 CSI in error message',
    { success: false, error_message: 'x\u009b' },
    AuditErrorCode.InvalidField,
    'error_message',
  ],
  [
    'C1 in a details value',
    { details: { note: 'x\u0090' } },
    AuditErrorCode.InvalidField,
    'details.note',
  ],
  ['C1 in a details key', { details: { 'k\u0080': 'v' } }, AuditErrorCode.InvalidField, 'details'],
  [
    'escape in a details value',
    { details: { note: '\u001b[31m' } },
    AuditErrorCode.InvalidField,
    'details.note',
  ],
  [
    'a details key __proto__',
    { details: JSON.parse('{"__proto__":"x"}') as Record<string, string> },
    AuditErrorCode.InvalidField,
    'details.__proto__',
  ],
  ['success not a boolean', { success: 'yes' }, AuditErrorCode.InvalidField, 'success'],
  [
    'failure without message',
    { success: false, error_message: null },
    AuditErrorCode.InconsistentOutcome,
    'error_message',
  ],
  [
    'success with message',
    { success: true, error_message: 'boom' },
    AuditErrorCode.InconsistentOutcome,
    'error_message',
  ],
  [
    'empty error message',
    { success: false, error_message: '' },
    AuditErrorCode.InvalidField,
    'error_message',
  ],
  [
    'error message too long',
    { success: false, error_message: 'e'.repeat(LIMITS.errorMessage + 1) },
    AuditErrorCode.FieldTooLarge,
    'error_message',
  ],
  ['empty source', { source: '' }, AuditErrorCode.InvalidField, 'source'],
];

for (const [name, overrides, code, field] of invalid) {
  test(`invalid: ${name} -> ${code} on ${field.length > 40 ? field.slice(0, 40) + '…' : field}`, () => {
    assert.throws(
      () => validateRecord(record(overrides)),
      (error: unknown) => {
        assert.ok(
          error instanceof ValidationError,
          `expected a ValidationError, got ${String(error)}`,
        );
        assert.equal(error.code, code);
        assert.equal(error.field, field);
        assert.ok(error.message.startsWith(field), `message names the field: ${error.message}`);
        return true;
      },
    );
  });
}

test('isLowerCaseUuid gives the verdict of the UUID regex for every one-character change of a UUID', () => {
  const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  const base = '0190f5a2-7c3e-7d4f-8a1b-2c3d4e5f6a7b';
  const candidates = [base, '', base.slice(1), `${base}0`, `${base}\n`, base.toUpperCase()];
  for (let i = 0; i < base.length; i++)
    for (const c of ['0', '9', 'a', 'f', 'g', 'A', 'F', '-', '/', ':', '`', ' ', 'é'])
      candidates.push(base.slice(0, i) + c + base.slice(i + 1));
  for (const candidate of candidates)
    assert.equal(isLowerCaseUuid(candidate), UUID.test(candidate), JSON.stringify(candidate));
});
