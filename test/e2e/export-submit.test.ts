import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '../helpers.js';

const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));

/** The command line in an environment without any Kafka or S3 setting (the embedded default). */
function run(args: string[], cwd: string, extra: NodeJS.ProcessEnv = {}) {
  const env: NodeJS.ProcessEnv = { PATH: process.env['PATH'], AUDIT_LOG_LEVEL: 'warn', ...extra };
  const result = spawnSync(process.execPath, [MAIN, ...args], { cwd, encoding: 'utf8', env });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

test('export --submit without Kafka is refused with a typed error saying Kafka is needed', async (t) => {
  const cwd = await tempDir(t);
  const result = run(['export', '--submit', '--format', 'json'], cwd);
  assert.equal(result.code, 1);
  assert.equal(result.stdout, '', 'no id printed: nothing was submitted');
  assert.match(
    result.stderr,
    /^audit-trail: INVALID_OPTION: KAFKA_BROKERS: is required for export --submit: requests go over Kafka to the exporter group/,
  );
});

test('export --submit: a bad filter is refused before anything is sent, naming the parameter', async (t) => {
  const cwd = await tempDir(t);
  // an unreachable broker: the refusal must come before any attempt to reach it
  const env = { KAFKA_BROKERS: '127.0.0.1:1', KAFKA_CONNECTION_TIMEOUT_MS: '100' };
  const result = run(['export', '--submit', '--format', 'csv', '--type', 'Bogus'], cwd, env);
  assert.equal(result.code, 1);
  assert.match(result.stderr, /^audit-trail: INVALID_OPTION: type: must be one of /);
  const wait = run(['export', '--wait', '--format', 'csv'], cwd, env);
  assert.equal(wait.code, 2);
  assert.match(wait.stderr, /--wait goes with --submit/);
  const out = run(['export', '--submit', '--format', 'csv', '--out', 'x.csv'], cwd, env);
  assert.equal(out.code, 2);
  assert.match(out.stderr, /--out does not go with --submit/);
});

test('exporter without Kafka is refused naming KAFKA_BROKERS; overlapping prefixes are refused naming the setting', async (t) => {
  const cwd = await tempDir(t);
  const member = run(['exporter'], cwd);
  assert.equal(member.code, 1);
  assert.match(member.stderr, /^audit-trail: INVALID_OPTION: KAFKA_BROKERS: is required/);
  const overlap = run(['exporter'], cwd, {
    KAFKA_BROKERS: '127.0.0.1:1',
    AUDIT_ARCHIVE_PREFIX: 'audit',
    AUDIT_EXPORTS_PREFIX: 'audit/exports',
  });
  assert.equal(overlap.code, 1);
  assert.match(
    overlap.stderr,
    /^audit-trail: INVALID_OPTION: AUDIT_EXPORTS_PREFIX: "audit\/exports" overlaps the archive prefix "audit"/,
  );
});
