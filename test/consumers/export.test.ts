import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { AuditErrorCode } from '../../common/errors.js';
import { filterRecords } from '../../consumers/exporter/filter.js';
import { exportToFile } from '../../schemas/write-export.js';
import { EVENT_FIELDS, type AuditEventRecord } from '../../schemas/event-record.js';
import { collect, record, tempDir } from '../helpers.js';

const HEADER =
  'id,timestamp,event_type,package_name,package_version,user,ip_address,details,success,error_message,source';

const tricky: AuditEventRecord[] = [
  record(),
  record({ user: '=HYPERLINK("http://x","y")', details: { note: 'a, "quoted"\nline' } }),
  record({
    success: false,
    error_message: 'line one\r\nline two, with "quotes"',
    package_version: null,
    user: null,
    ip_address: null,
  }),
  record({ user: '+1+1', source: '-2', package_name: '@scope/pkg' }),
  record({ user: '\tcmd', error_message: null, details: {} }),
];

test('CSV: header row, RFC 4180 quoting, details as JSON, formulas neutralised', async (t) => {
  const path = join(await tempDir(t), 'out.csv');
  await exportToFile(path, 'csv', tricky);
  const text = readFileSync(path, 'utf8');
  assert.ok(text.startsWith(HEADER + '\r\n'));
  const rows = parse<Record<string, string>>(text, { columns: true });
  assert.equal(rows.length, tricky.length);
  assert.deepEqual(Object.keys(rows[0] ?? {}), [...EVENT_FIELDS]);
  assert.equal(rows[0]?.timestamp, '2026-11-27T12:00:00.123Z');
  assert.equal(rows[0]?.success, 'true');
  assert.equal(rows[1]?.user, `'=HYPERLINK("http://x","y")`);
  assert.deepEqual(JSON.parse(rows[1]?.details ?? ''), { note: 'a, "quoted"\nline' });
  assert.equal(rows[2]?.error_message, 'line one\r\nline two, with "quotes"');
  assert.equal(rows[2]?.user, '');
  assert.equal(rows[3]?.user, "'+1+1");
  assert.equal(rows[3]?.source, "'-2");
  assert.equal(rows[3]?.package_name, "'@scope/pkg");
  assert.equal(rows[4]?.user, "'\tcmd");
  for (const row of rows) {
    for (const cell of Object.values(row))
      assert.doesNotMatch(cell, /^[=+\-@\t\r]/, `cell ${cell} starts a formula`);
  }
});

test('JSON: one array with snake_case fields and ISO-8601 UTC timestamps', async (t) => {
  const path = join(await tempDir(t), 'out.json');
  await exportToFile(path, 'json', tricky);
  const parsed = JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>[];
  assert.equal(parsed.length, tricky.length);
  assert.deepEqual(Object.keys(parsed[0] ?? {}), [...EVENT_FIELDS]);
  assert.deepEqual(parsed[1], { ...tricky[1], timestamp: '2026-11-27T12:00:00.123Z' });
});

test('NDJSON: one object per line', async (t) => {
  const path = join(await tempDir(t), 'out.ndjson');
  await exportToFile(path, 'ndjson', tricky);
  const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
  assert.equal(lines.length, tricky.length);
  assert.deepEqual(
    lines.map((l) => (JSON.parse(l) as { id: string }).id),
    tricky.map((r) => r.id),
  );
});

test('empty exports are still valid documents', async (t) => {
  const dir = await tempDir(t);
  await exportToFile(join(dir, 'e.json'), 'json', []);
  await exportToFile(join(dir, 'e.csv'), 'csv', []);
  await exportToFile(join(dir, 'e.ndjson'), 'ndjson', []);
  assert.deepEqual(JSON.parse(readFileSync(join(dir, 'e.json'), 'utf8')), []);
  assert.equal(readFileSync(join(dir, 'e.csv'), 'utf8'), HEADER + '\r\n');
  assert.equal(readFileSync(join(dir, 'e.ndjson'), 'utf8'), '');
});

test('a failing export leaves the previous file whole and no temporary file', async (t) => {
  const dir = await tempDir(t);
  const path = join(dir, 'trail.json');
  writeFileSync(path, '["previous"]');
  async function* failing(): AsyncGenerator<AuditEventRecord> {
    yield record();
    throw new Error('source broke');
  }
  await assert.rejects(exportToFile(path, 'json', failing()), { code: AuditErrorCode.Io });
  assert.equal(readFileSync(path, 'utf8'), '["previous"]');
  assert.deepEqual(readdirSync(dir), ['trail.json']);
});

test('an export into a missing folder is an IO_ERROR naming the file', async (t) => {
  const path = join(await tempDir(t), 'missing', 'x.csv');
  await assert.rejects(
    exportToFile(path, 'csv', [record()]),
    (e: Error & { code?: string }) => e.code === AuditErrorCode.Io && e.message.includes(path),
  );
});

test('filters select by package, type, user and time range', async () => {
  const records = [
    record({ package_name: 'a', timestamp: 1000 }),
    record({ package_name: 'b', timestamp: 2000, user: 'ada' }),
    record({ package_name: 'a', timestamp: 3000, event_type: 'IntegrityCheck' }),
  ];
  async function* all() {
    yield* records;
  }
  const pick = async (f: Parameters<typeof filterRecords>[1]) =>
    (await collect(filterRecords(all(), f))).map((r) => r.timestamp);
  assert.deepEqual(await pick({ packageName: 'a' }), [1000, 3000]);
  assert.deepEqual(await pick({ eventTypes: ['IntegrityCheck'] }), [3000]);
  assert.deepEqual(await pick({ user: 'ada' }), [2000]);
  assert.deepEqual(await pick({ from: 2000, to: 3000 }), [2000]);
  assert.deepEqual(await pick({}), [1000, 2000, 3000]);
});
