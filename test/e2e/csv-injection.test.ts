/**
 * An attacker's CSV export: values that try to split a row or start a formula
 * after whitespace or a line break, in every text field, in a details key and
 * value. Every export must parse (csv-parse and Python's csv module) into one
 * row per event, keep every value (with at most a leading `'`), and no cell may
 * start a formula.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parse } from 'csv-parse/sync';
import { exportToFile } from '../../schemas/write-export.js';
import { EVENT_FIELDS, type AuditEventRecord } from '../../schemas/event-record.js';
import { record, tempDir } from '../helpers.js';

const PAYLOADS = [
  '\n=1+1',
  '\r=1+1',
  '\r\n=1+1',
  ' =cmd|"/c calc"!A0',
  '  \t@SUM(A1:A2)',
  '\n\n-2+3',
  '\u00a0+1',
  'ok\n=1+1',
  'ok\r@x',
  '"\n=1+1',
  ',\r\n+HYPERLINK("http://x","y")',
  '=1+1',
  '\t',
  'ünïcödé 🙂 "q", \r\n',
];

const TEXT_FIELDS = [
  'package_name',
  'package_version',
  'user',
  'ip_address',
  'error_message',
  'source',
] as const;

function attackRecords(): AuditEventRecord[] {
  const out: AuditEventRecord[] = [];
  for (const payload of PAYLOADS) {
    for (const field of TEXT_FIELDS) {
      const overrides: Partial<AuditEventRecord> = { [field]: payload };
      if (field === 'error_message') overrides.success = false;
      out.push(record(overrides));
    }
    out.push(record({ details: { note: payload } }));
    out.push(record({ details: { [payload]: 'v' } }));
  }
  return out;
}

/** A cell a spreadsheet could run: a formula sign after optional whitespace or line breaks, or a leading tab/CR/LF. */
const FORMULA = /^[\s\u0000-\u001f]*[=+\-@]|^[\t\r\n]/u;

test('CSV attacker table: line breaks before formulas never split a row or start a formula', async (t) => {
  const records = attackRecords();
  const path = join(await tempDir(t), 'attack.csv');
  await exportToFile(path, 'csv', records);
  const text = readFileSync(path, 'utf8');

  const rows: string[][] = parse(text);
  assert.equal(rows.length, records.length + 1, 'csv-parse: one row per event plus the header');
  assert.deepEqual(rows[0], [...EVENT_FIELDS]);
  const python = execFileSync(
    '/usr/bin/python3',
    [
      '-c',
      'import csv,sys\nrows=list(csv.reader(open(sys.argv[1],newline="",encoding="utf-8")))\nprint(len(rows), len(set(len(r) for r in rows)))',
      path,
    ],
    { encoding: 'utf8' },
  ).trim();
  assert.equal(python, `${records.length + 1} 1`, 'python csv: one row per event, all 11 cells');

  records.forEach((rec, i) => {
    const row = rows[i + 1] ?? [];
    const expected = toPlainCells(rec);
    row.forEach((cell, c) => {
      assert.doesNotMatch(
        cell,
        FORMULA,
        `row ${i + 1} ${EVENT_FIELDS[c]}: ${JSON.stringify(cell)}`,
      );
      const original = expected[c] ?? '';
      assert.ok(
        cell === original || cell === `'${original}`,
        `row ${i + 1} ${EVENT_FIELDS[c]}: ${JSON.stringify(cell)} is not ${JSON.stringify(original)}`,
      );
    });
    assert.deepEqual(JSON.parse(row[7] ?? ''), rec.details, 'the details cell is its JSON');
  });
});

function toPlainCells(rec: AuditEventRecord): string[] {
  return [
    rec.id,
    new Date(rec.timestamp).toISOString(),
    rec.event_type,
    rec.package_name ?? '',
    rec.package_version ?? '',
    rec.user ?? '',
    rec.ip_address ?? '',
    JSON.stringify(rec.details),
    rec.success ? 'true' : 'false',
    rec.error_message ?? '',
    rec.source ?? '',
  ];
}
