import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import { tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const HEADER =
  'id,timestamp,event_type,package_name,package_version,user,ip_address,details,success,error_message,source';

// exports record their access in the spool: one of the tests', not ./audit-data in the working folder
const SPOOL = mkdtempSync(join(tmpdir(), 'audit-trail-cli-spool-'));
after(() => rmSync(SPOOL, { recursive: true, force: true }));

function run(args: string[], cwd?: string) {
  const result = spawnSync(process.execPath, [MAIN, ...args], {
    cwd,
    encoding: 'utf8',
    env: { ...process.env, AUDIT_LOG_LEVEL: 'warn', AUDIT_SPOOL_DIR: SPOOL },
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('demo runs the embedded pipeline and writes JSON and CSV that parse', async (t) => {
  const out = await tempDir(t);
  const result = run(['demo', '--events', '3000', '--out', out]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /total\s+3000/);
  for (const type of [
    'PackageInstall',
    'PackageUninstall',
    'PackageUpdate',
    'IntegrityCheck',
    'VulnerabilityScan',
    'RuntimeProtection',
    'ConfigurationChange',
  ]) {
    assert.match(result.stdout, new RegExp(`${type}\\s+[1-9]\\d*`), `${type} appears in the mix`);
  }
  const json = JSON.parse(readFileSync(join(out, 'audit-trail.json'), 'utf8')) as { id: string }[];
  assert.equal(json.length, 3000);
  assert.equal(new Set(json.map((e) => e.id)).size, 3000);
  const csv = readFileSync(join(out, 'audit-trail.csv'), 'utf8');
  assert.equal(csv.slice(0, csv.indexOf('\r\n')), HEADER);
  const rows = parse<Record<string, string>>(csv, { columns: true });
  assert.equal(rows.length, 3000);
  assert.ok(
    rows.some((r) => r.success === 'false' && r.error_message !== ''),
    'some failures',
  );
  const injected = rows.filter((r) => r.user?.includes('HYPERLINK'));
  assert.ok(injected.length > 0, 'the simulation includes formula-like user names');
  assert.ok(
    injected.every((r) => r.user?.startsWith("'=")),
    'and they are neutralised',
  );

  // running the demo again starts from a clean pipeline
  const again = run(['demo', '--events', '100', '--out', out]);
  assert.equal(again.code, 0, again.stderr);
  assert.equal(
    (JSON.parse(readFileSync(join(out, 'audit-trail.json'), 'utf8')) as unknown[]).length,
    100,
  );

  // export over the archive the demo left, with filters, to stdout and to a file
  const archive = join(out, 'archive');
  const ndjson = run(['export', '--archive', archive, '--format', 'ndjson', '--package', 'lodash']);
  assert.equal(ndjson.code, 0, ndjson.stderr);
  const lines = ndjson.stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { package_name: string });
  assert.ok(lines.length > 0);
  assert.ok(lines.every((e) => e.package_name === 'lodash'));
  const file = join(out, 'checks.csv');
  const csvExport = run([
    'export',
    '--archive',
    archive,
    '--format',
    'csv',
    '--type',
    'IntegrityCheck',
    '--out',
    file,
  ]);
  assert.equal(csvExport.code, 0, csvExport.stderr);
  const checks = parse<Record<string, string>>(readFileSync(file, 'utf8'), { columns: true });
  assert.ok(checks.length > 0 && checks.every((r) => r.event_type === 'IntegrityCheck'));
  const future = run([
    'export',
    '--archive',
    archive,
    '--format',
    'json',
    '--from',
    '2999-01-01T00:00:00Z',
  ]);
  assert.deepEqual(JSON.parse(future.stdout), []);
});

const mistakes: [string, string[], RegExp][] = [
  ['unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ['missing format', ['export'], /--format is required/],
  ['bad format', ['export', '--format', 'xml'], /--format must be json, ndjson or csv, got "xml"/],
  [
    'bad type',
    ['export', '--format', 'csv', '--type', 'Install'],
    /--type must be one of PackageInstall/,
  ],
  [
    'bad time',
    ['export', '--format', 'csv', '--from', 'yesterday'],
    /--from must be an ISO-8601 date or time with a zone/,
  ],
  [
    'bad success',
    ['export', '--format', 'csv', '--success', 'yes'],
    /--success must be true or false, got "yes"/,
  ],
  [
    'one of several types bad',
    ['export', '--format', 'csv', '--type', 'PackageInstall', '--type', 'Nope'],
    /--type must be one of PackageInstall.*got "Nope"/,
  ],
  [
    'from after to',
    ['export', '--format', 'csv', '--from', '2026-02-01', '--to', '2026-01-01'],
    /--from must be before to/,
  ],
  [
    'require-verified without a verify key',
    ['export', '--format', 'csv', '--require-verified'],
    /--require-verified needs AUDIT_VERIFY_KEY_FILE/,
  ],
  ['unknown option', ['demo', '--evnts', '5'], /Unknown option '--evnts'/],
  [
    'negative event count',
    ['demo', '--events=-3'],
    /--events must be a positive whole number, got "-3"/,
  ],
  [
    'zero event count',
    ['demo', '--events', '0'],
    /--events must be a positive whole number, got "0"/,
  ],
  [
    'option value that looks like an option',
    ['demo', '--events', '-3'],
    /Option '--events' argument is ambiguous/,
  ],
  [
    'missing archive',
    ['export', '--format', 'csv', '--archive', '/nonexistent/archive'],
    /archive folder \/nonexistent\/archive does not exist/,
  ],
];
for (const [name, args, message] of mistakes) {
  test(`a user mistake (${name}) is one clear line and exit code 2`, () => {
    const result = run(args);
    assert.equal(result.code, 2);
    assert.match(result.stderr, message);
    assert.equal(result.stderr.trimEnd().split('\n').length, 1, `one line: ${result.stderr}`);
    assert.doesNotMatch(result.stderr, /\bat .+:\d+:\d+/, 'no stack trace');
  });
}

test('help for the command and for each subcommand', () => {
  const main = run(['--help']);
  assert.equal(main.code, 0);
  assert.match(main.stdout, /Commands:/);
  for (const command of ['demo', 'export', 'archive']) {
    const help = run([command, '--help']);
    assert.equal(help.code, 0);
    assert.match(help.stdout, new RegExp(`Usage: audit-trail ${command}`));
  }
  assert.match(run(['--version']).stdout, /^\d+\.\d+\.\d+\n$/);
});

test('archive --once drains a spool written by the library', async (t) => {
  const dir = await tempDir(t);
  const spool = join(dir, 'spool');
  const archive = join(dir, 'archive');
  const { AuditTrail, AuditEvent, AuditEventType } = await import('audit-trail');
  const trail = new AuditTrail({ spoolDir: spool });
  for (let i = 0; i < 50; i++)
    trail.addEvent(new AuditEvent(AuditEventType.VulnerabilityScan).withPackageName('axios'));
  await trail.close();
  const result = run(['archive', '--once', '--spool', spool, '--archive', archive]);
  assert.equal(result.code, 0, result.stderr);
  assert.match(result.stdout, /archived 50 events into 1 objects/);
  const exported = run(['export', '--archive', archive, '--format', 'json', '--package', 'axios']);
  assert.equal((JSON.parse(exported.stdout) as unknown[]).length, 50);
});
