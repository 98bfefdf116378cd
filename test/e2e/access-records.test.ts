/**
 * Every export is itself recorded (PCI DSS 10.2.1.3): the command line's export
 * adds an access record to the trail, which the archiver archives like any
 * other event and a later export finds.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'csv-parse/sync';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { ACCESS_RECORD_TIMEOUT_MS } from '../../cli/access.js';
import { readSpool, tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
const ME = userInfo().username;

type Exported = Omit<AuditEventRecord, 'timestamp'> & { timestamp: string };

async function pipeline(t: Parameters<typeof tempDir>[0], extra: NodeJS.ProcessEnv = {}) {
  const dir = await tempDir(t);
  const env = {
    ...process.env,
    AUDIT_LOG_LEVEL: 'warn',
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
    AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
    AUDIT_SOURCE: 'audit-host-1',
    ...extra,
  };
  const cli = (args: string[], more: NodeJS.ProcessEnv = {}) =>
    spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8', env: { ...env, ...more } });
  const ok = (args: string[], more: NodeJS.ProcessEnv = {}): string => {
    const result = cli(args, more);
    assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  const ndjson = (text: string): Exported[] =>
    text
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Exported);
  const accessRecords = (): Exported[] =>
    ndjson(ok(['export', '--format', 'ndjson', '--type', 'IntegrityCheck', '--user', ME])).filter(
      (e) => e.details['audit_access'] !== undefined,
    );
  return { dir, cli, ok, ndjson, accessRecords };
}

test('each export, successful or failed, is recorded in the trail and found by a later export', async (t) => {
  const { dir, cli, ok, ndjson, accessRecords } = await pipeline(t);
  ok(['emit', '--type', 'PackageInstall', '--package', 'lodash', '--user', 'ada']);
  ok(['emit', '--type', 'IntegrityCheck', '--package', 'left-pad', '--user', 'bob']);
  ok(['emit', '--type', 'ConfigurationChange', '--user', 'carol']);
  assert.match(ok(['archive', '--once']), /archived 3 events/);

  const started = Date.now();
  assert.equal(ndjson(ok(['export', '--format', 'ndjson', '--package', 'lodash'])).length, 1);
  const csvFile = join(dir, 'all.csv');
  ok(['export', '--format', 'csv', '--out', csvFile]);
  assert.equal(parse(readFileSync(csvFile, 'utf8'), { columns: true }).length, 3);
  const bobs = JSON.parse(
    ok([
      'export',
      '--format',
      'json',
      '--type',
      'IntegrityCheck',
      '--user',
      'bob',
      '--from',
      '2026-01-01T00:00:00Z',
    ]),
  ) as unknown[];
  assert.equal(bobs.length, 1);
  const missing = cli(['export', '--format', 'json', '--archive', join(dir, 'nowhere')]);
  assert.equal(missing.status, 2, 'a failed export keeps its own exit code');
  assert.equal(missing.stderr.trimEnd().split('\n').length, 1, missing.stderr);

  // nothing archived yet: the access records wait in the spool like any event
  assert.deepEqual(accessRecords(), []);
  assert.match(ok(['archive', '--once']), /archived 5 events/, 'four exports + the check above');

  const records = accessRecords();
  assert.equal(records.length, 5, 'exactly the access records of the five exports');
  const ended = Date.now();
  for (const r of records) {
    assert.equal(r.event_type, 'IntegrityCheck');
    assert.equal(r.user, ME);
    assert.equal(r.package_name, null);
    assert.equal(r.ip_address, null);
    assert.equal(r.source, 'audit-host-1');
    assert.equal(r.details['audit_access'], 'export');
    assert.equal(r.details['audit_access.channel'], 'cli');
    const at = Date.parse(r.timestamp);
    assert.ok(at >= started - 1000 && at <= ended, r.timestamp);
  }
  const summary = records.map((r) => ({
    format: r.details['audit_access.format'],
    filters: JSON.parse(r.details['audit_access.filters'] ?? 'null') as unknown,
    events: r.details['audit_access.events'],
    verification: r.details['audit_access.verification'],
    success: r.success,
  }));
  assert.deepEqual(summary, [
    {
      format: 'ndjson',
      filters: { package: 'lodash' },
      events: '1',
      verification: 'not-configured',
      success: true,
    },
    { format: 'csv', filters: {}, events: '3', verification: 'not-configured', success: true },
    {
      format: 'json',
      filters: { type: ['IntegrityCheck'], user: 'bob', from: '2026-01-01T00:00:00.000Z' },
      events: '1',
      verification: 'not-configured',
      success: true,
    },
    { format: 'json', filters: {}, events: undefined, verification: undefined, success: false },
    {
      format: 'ndjson',
      filters: { type: ['IntegrityCheck'], user: ME },
      events: '0',
      verification: 'not-configured',
      success: true,
    },
  ]);
  assert.match(records[3]?.error_message ?? '', /archive folder .*nowhere does not exist/);
  // the ids are those of events, unique, and the records stay out of exports by package
  assert.equal(new Set(records.map((r) => r.id)).size, 5);
  const lodash = ndjson(ok(['export', '--format', 'ndjson', '--package', 'lodash']));
  assert.deepEqual(
    lodash.map((e) => e.event_type),
    ['PackageInstall'],
  );
});

test('an export whose access cannot be recorded is not silent: its output stays, stderr says why, the exit code is 1', async (t) => {
  const { dir, ok } = await pipeline(t);
  ok(['emit', '--type', 'PackageInstall', '--package', 'lodash']);
  ok(['archive', '--once']);
  // the spool is unusable (its folder would be below a file): the record cannot be written
  writeFileSync(join(dir, 'not-a-folder'), '');
  const result = spawnSync(process.execPath, [MAIN, 'export', '--format', 'ndjson'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      AUDIT_LOG_LEVEL: 'warn',
      AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
      AUDIT_SPOOL_DIR: join(dir, 'not-a-folder', 'spool'),
    },
  });
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stdout, /"package_name":"lodash"/, 'the export itself is delivered');
  assert.match(
    result.stderr,
    /^audit-trail: [A-Z_]+: the access to the audit data could not be recorded in the spool .*not-a-folder\/spool: /m,
  );
});

test('an export refused because the archive does not verify is recorded as a failed integrity check', async (t) => {
  const dir = await tempDir(t);
  for (const name of ['keys', 'other-keys']) {
    const made = spawnSync(process.execPath, [MAIN, 'keys', 'generate', '--out', join(dir, name)], {
      encoding: 'utf8',
    });
    assert.equal(made.status, 0, made.stderr);
  }
  const { ok, cli, ndjson } = await pipeline(t, {
    AUDIT_SIGNING_KEY_FILE: join(dir, 'keys', 'audit-signing.key'),
    AUDIT_VERIFY_KEY_FILE: join(dir, 'keys', 'audit-signing.pub'),
  });
  ok(['emit', '--type', 'PackageInstall', '--package', 'lodash']);
  ok(['archive', '--once']);
  // digests signed by another key: the archive is not the one this key vouches for
  const otherKey = { AUDIT_VERIFY_KEY_FILE: join(dir, 'other-keys', 'audit-signing.pub') };
  const refused = cli(
    ['export', '--format', 'ndjson', '--package', 'lodash', '--require-verified'],
    otherKey,
  );
  assert.equal(refused.status, 1);
  assert.match(refused.stderr, /VERIFY_FAILED/);
  assert.equal(refused.stdout, '');
  // without --require-verified the events are exported, the failure reported and recorded
  const reported = cli(['export', '--format', 'ndjson', '--package', 'lodash'], otherKey);
  assert.equal(reported.status, 1);
  assert.match(reported.stderr, /verification failed: /);
  assert.match(reported.stdout, /"package_name":"lodash"/);
  ok(['archive', '--once']);
  const checks = ndjson(
    ok(['export', '--format', 'ndjson', '--type', 'IntegrityCheck', '--user', ME]),
  );
  const records = checks.filter((e) => e.details['audit_access'] !== undefined && !e.success);
  assert.equal(records.length, 2);
  const [record, unrequired] = records;
  assert.equal(record?.details['audit_access.error_code'], 'VERIFY_FAILED');
  assert.match(record?.error_message ?? '', /^VERIFY_FAILED: archive object \S+ does not verify/);
  assert.equal(unrequired?.details['audit_access.error_code'], 'VERIFY_FAILED');
  assert.equal(unrequired?.details['audit_access.objects_failed'], '1');
  assert.match(
    unrequired?.error_message ?? '',
    /^VERIFY_FAILED: 1 object\(s\) read did not verify/,
  );
  assert.deepEqual(JSON.parse(record?.details['audit_access.filters'] ?? ''), {
    package: 'lodash',
  });
});

test('with Kafka unreachable the export is delivered, exits 1 naming Kafka, and its access record waits in the spool for the next run', async (t) => {
  const { dir, ok } = await pipeline(t);
  ok(['emit', '--type', 'PackageInstall', '--package', 'lodash']);
  ok(['archive', '--once']);
  const spool = join(dir, 'kafka-spool');
  const started = Date.now();
  const result = spawnSync(process.execPath, [MAIN, 'export', '--format', 'ndjson'], {
    encoding: 'utf8',
    env: {
      ...process.env,
      AUDIT_LOG_LEVEL: 'warn',
      AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
      AUDIT_SPOOL_DIR: spool,
      AUDIT_TRANSPORT: 'kafka',
      KAFKA_BROKERS: '127.0.0.1:1',
      KAFKA_CONNECTION_TIMEOUT_MS: '500',
      KAFKA_REQUEST_TIMEOUT_MS: '1000',
    },
  });
  const elapsedMs = Date.now() - started;
  assert.equal(result.status, 1, result.stderr);
  assert.match(result.stdout, /"package_name":"lodash"/, 'the export itself is delivered');
  assert.match(
    result.stderr,
    /audit-trail: [A-Z_]+: the access to the audit data could not be recorded in Kafka \(topic audit\.events; an unacknowledged record stays in the spool /,
  );
  assert.ok(elapsedMs < ACCESS_RECORD_TIMEOUT_MS + 15_000, `gave up after ${elapsedMs} ms`);
  const [kept] = await readSpool(spool);
  assert.match(kept?.value ?? '', /audit_access/, 'the record is kept for the next run');
});

test('a reader that closes the pipe early (| head) ends the export quietly, and the access is recorded', async (t) => {
  const { dir, ok, accessRecords } = await pipeline(t);
  const lines = Array.from({ length: 3000 }, (_, i) =>
    JSON.stringify({ event_type: 'PackageInstall', package_name: `p${i % 7}`, user: 'ada' }),
  );
  writeFileSync(join(dir, 'events.ndjson'), `${lines.join('\n')}\n`);
  ok(['produce', '--from', join(dir, 'events.ndjson')]);
  ok(['archive', '--once']);
  // `export ... | head -c 100`, with a shell, as an operator would type it
  const piped = spawnSync(
    'bash',
    [
      '-c',
      `set -o pipefail; "${process.execPath}" "${MAIN}" export --format csv | head -c 100 >/dev/null`,
    ],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        AUDIT_LOG_LEVEL: 'warn',
        AUDIT_SPOOL_DIR: join(dir, 'spool'),
        AUDIT_ARCHIVE_DIR: join(dir, 'archive'),
      },
    },
  );
  assert.equal(piped.status, 0);
  assert.doesNotMatch(piped.stderr, /unexpected error|EPIPE/, piped.stderr);
  assert.match(piped.stderr, /^audit-trail: export: objects listed/m);
  ok(['archive', '--once']);
  const records = accessRecords();
  assert.equal(records.length, 1, 'the piped export is recorded');
  assert.equal(records[0]?.success, true);
  assert.ok(
    Number(records[0]?.details['audit_access.events']) < 3000,
    'what was read before the reader left',
  );
});
