/**
 * The ECS rendering read back against the ECS 8.11.0 field list, kept as a
 * fixture (fixtures/ecs-8.11.0-fields.json, from @elastic/ecs 8.11.5, see
 * fixtures/README.md): every field is an ECS field, of its ECS type, with an
 * allowed value where ECS lists them, each event.type one its event.category
 * expects, and every field ECS requires present.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { test } from 'node:test';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { toExportObject } from '../../schemas/render.js';
import { ECS_VERSION, labelKeys } from '../../schemas/siem/ecs.js';
import { renderSiem } from '../../schemas/siem/index.js';
import { record } from '../helpers.js';
import { accessRecords, allRecords, hostileRecords } from './siem-corpus.js';

interface Field {
  type: string;
  normalize: string[];
  required: boolean;
  allowed_values?: { name: string; expected_event_types?: string[] }[];
}
interface Fixture {
  version: string;
  source: { package: string };
  required: string[];
  fields: Record<string, Field>;
}

const FIXTURE = JSON.parse(
  readFileSync(
    new URL('../../../test/schemas/fixtures/ecs-8.11.0-fields.json', import.meta.url),
    'utf8',
  ),
) as Fixture;

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Dotted field names and values; a field of type object (`labels`) is a leaf. */
function flatten(doc: Json, prefix = '', out = new Map<string, unknown>()): Map<string, unknown> {
  for (const [key, value] of Object.entries(doc)) {
    const name = prefix + key;
    if (isObject(value) && FIXTURE.fields[name]?.type !== 'object') flatten(value, `${name}.`, out);
    else out.set(name, value);
  }
  return out;
}

function checkType(name: string, type: string, value: unknown): string | null {
  switch (type) {
    case 'keyword':
    case 'match_only_text':
      return typeof value === 'string' ? null : `${name}: ${type} must be a string`;
    case 'long':
      return Number.isSafeInteger(value) ? null : `${name}: long must be an integer`;
    case 'date':
      return typeof value === 'string' &&
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/u.test(value) &&
        !Number.isNaN(Date.parse(value))
        ? null
        : `${name}: date must be ISO-8601`;
    case 'ip':
      return typeof value === 'string' && isIP(value) !== 0 ? null : `${name}: not an IP address`;
    case 'object':
      return isObject(value) &&
        Object.entries(value).every(([k, v]) => /^[A-Za-z0-9_]+$/u.test(k) && typeof v === 'string')
        ? null
        : `${name}: must be an object of keyword values under keys without dots`;
    default:
      return `${name}: type ${type} not checked by this test`;
  }
}

/** Every problem of one ECS document against the fixture; [] when it conforms. */
function validate(doc: Json): string[] {
  const problems: string[] = [];
  const fields = flatten(doc);
  for (const name of FIXTURE.required)
    if (!fields.has(name)) problems.push(`${name}: required by ECS, missing`);
  for (const [name, value] of fields) {
    const field = FIXTURE.fields[name];
    if (field === undefined) {
      problems.push(`${name}: not an ECS ${FIXTURE.version} field (or not in the fixture)`);
      continue;
    }
    const values = Array.isArray(value) ? value : [value];
    if (Array.isArray(value) && !field.normalize.includes('array'))
      problems.push(`${name}: ECS does not make it an array`);
    for (const v of values) {
      const problem = checkType(name, field.type, v);
      if (problem !== null) problems.push(problem);
      if (field.allowed_values !== undefined && !field.allowed_values.some((a) => a.name === v))
        problems.push(`${name}: ${String(v)} is not an allowed value`);
    }
  }
  if (fields.get('ecs.version') !== FIXTURE.version)
    problems.push(`ecs.version ${String(fields.get('ecs.version'))}`);
  const categories = (fields.get('event.category') ?? []) as string[];
  for (const type of (fields.get('event.type') ?? []) as string[])
    for (const category of categories) {
      const expected =
        FIXTURE.fields['event.category']?.allowed_values?.find((a) => a.name === category)
          ?.expected_event_types ?? [];
      if (!expected.includes(type))
        problems.push(`event.type ${type} is not one event.category ${category} expects`);
    }
  return problems;
}

function ecs(r: AuditEventRecord): Json {
  const text = renderSiem('ecs', r);
  assert.ok(!text.endsWith('\n'), 'one document, no line end');
  return JSON.parse(text) as Json;
}

test('the fixture is ECS 8.11.0 from @elastic/ecs, and the rendering names that version', () => {
  assert.equal(FIXTURE.version, '8.11.0');
  assert.equal(ECS_VERSION, FIXTURE.version);
  assert.equal(FIXTURE.source.package, '@elastic/ecs@8.11.5');
  assert.deepEqual(FIXTURE.required, ['@timestamp', 'ecs.version']);
});

test('every rendered document uses ECS 8.11 fields only, with their types and allowed values', () => {
  for (const r of allRecords())
    assert.deepEqual(validate(ecs(r)), [], `${r.event_type} ${JSON.stringify(r.details)}`);
});

test('the validator finds what is wrong (it is not a test that cannot fail)', () => {
  const good = ecs(record());
  assert.deepEqual(validate(good), []);
  const cases: [string, (d: Json) => void, RegExp][] = [
    ['no timestamp', (d) => delete d['@timestamp'], /@timestamp: required/u],
    [
      'made-up field',
      (d) => ((d['package'] as Json)['vendor'] = 'x'),
      /package\.vendor: not an ECS/u,
    ],
    [
      'made-up kind',
      (d) => ((d['event'] as Json)['kind'] = 'audit'),
      /event\.kind: audit is not an allowed value/u,
    ],
    [
      'type the category does not expect',
      (d) => ((d['event'] as Json)['type'] = ['denied']),
      /event\.type denied/u,
    ],
    ['outcome as boolean', (d) => ((d['event'] as Json)['outcome'] = true), /event\.outcome/u],
    ['not an ip', (d) => ((d['source'] as Json)['ip'] = 'ci-runner-01'), /source\.ip: not an IP/u],
    ['dotted label', (d) => ((d['labels'] as Json)['a.b'] = 'x'), /labels: must be an object/u],
    ['severity as text', (d) => ((d['event'] as Json)['severity'] = '1'), /event\.severity: long/u],
  ];
  for (const [name, spoil, expected] of cases) {
    const doc = structuredClone(good);
    spoil(doc);
    assert.ok(
      validate(doc).some((p) => expected.test(p)),
      `${name}: ${validate(doc).join('; ')}`,
    );
  }
});

test('our fields land where the mapping says', () => {
  const r = record({
    success: false,
    error_message: 'ETIMEDOUT',
    details: { registry: 'https://registry.npmjs.org' },
  });
  const d = ecs(r);
  assert.equal(d['@timestamp'], '2026-11-27T12:00:00.123Z');
  assert.deepEqual(d['event'], {
    kind: 'event',
    category: ['package'],
    type: ['installation'],
    action: 'package-install',
    outcome: 'failure',
    id: r.id,
    dataset: 'audit_trail.events',
    module: 'audit_trail',
    provider: 'audit-trail',
    severity: 2,
    original: JSON.stringify(toExportObject(r)),
  });
  assert.deepEqual(d['package'], { name: 'left-pad', version: '1.3.0' });
  assert.deepEqual(d['user'], { name: 'admin' });
  assert.deepEqual(d['source'], { ip: '192.0.2.1' });
  assert.deepEqual(d['host'], { name: 'ci-runner-01' });
  assert.deepEqual(d['error'], { message: 'ETIMEDOUT' });
  assert.deepEqual(d['labels'], { registry: 'https://registry.npmjs.org' });

  const kinds: [Partial<AuditEventRecord>, string, string[], string[]][] = [
    [{ event_type: 'PackageUninstall' }, 'event', ['package'], ['deletion']],
    [{ event_type: 'PackageUpdate' }, 'event', ['package'], ['change']],
    [
      { event_type: 'IntegrityCheck', success: false, error_message: 'x' },
      'alert',
      ['package', 'intrusion_detection'],
      ['info'],
    ],
    [
      { event_type: 'VulnerabilityScan', details: { advisories: '1', max_severity: 'low' } },
      'alert',
      ['package', 'vulnerability'],
      ['info'],
    ],
    [
      { event_type: 'RuntimeProtection', details: { action: 'blocked' } },
      'alert',
      ['intrusion_detection'],
      ['denied'],
    ],
    [
      { event_type: 'RuntimeProtection', details: { action: 'allowed' } },
      'event',
      ['intrusion_detection'],
      ['allowed'],
    ],
    [{ event_type: 'ConfigurationChange' }, 'event', ['configuration'], ['change']],
  ];
  for (const [overrides, kind, category, type] of kinds) {
    const event = ecs(record(overrides))['event'] as Json;
    assert.deepEqual(
      [event['kind'], event['category'], event['type']],
      [kind, category, type],
      JSON.stringify(overrides),
    );
  }

  const [, refused] = accessRecords();
  const a = ecs(refused!);
  assert.deepEqual(
    [(a['event'] as Json)['category'], (a['event'] as Json)['type']],
    [['database'], ['access']],
  );
  assert.deepEqual(a['source'], { domain: 'laptop.example.org' });
  assert.equal((a['error'] as Json)['code'], 'VERIFY_FAILED');
});

test('label keys never collide and event.original keeps every detail as it was', () => {
  assert.deepEqual(
    [...labelKeys(['a.b', 'a_b', 'a-b'])],
    [
      ['a-b', 'a_b'],
      ['a.b', 'a_b_2'],
      ['a_b', 'a_b_3'],
    ],
  );
  for (const r of hostileRecords()) {
    const d = ecs(r);
    const labels = d['labels'] as Record<string, string>;
    assert.equal(Object.keys(labels).length, Object.keys(r.details).length);
    assert.deepEqual(Object.values(labels).sort(), Object.values(r.details).sort());
    assert.deepEqual(JSON.parse((d['event'] as Json)['original'] as string), toExportObject(r));
    if (r.user !== null) assert.equal((d['user'] as Json)['name'], r.user);
  }
});
