/**
 * Access records keep readers of schema version 1 working: after exports were
 * recorded on the topic and archived, Apache Avro for Python with
 * schemas/audit-event.avsc as its schema still reads every record of the topic
 * (kcat) and every archive object (fetched with awscli), access records included.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '../helpers.js';
import { PREFIX, pipelineEnv } from './pipeline.js';
import { brokers, createTopics, ROOT, runCli, s3Settings, testBucket } from './stack.js';

const V1 = join(ROOT, 'schemas/audit-event.avsc');

interface Decoded {
  id: string;
  event_type: string;
  user: string | null;
  package_name: string | null;
  details: Record<string, string>;
  success: boolean;
  source: string | null;
}

function python(script: string, args: string[], input?: Buffer): Decoded[] {
  const result = spawnSync('/usr/bin/python3', [join(ROOT, 'test/interop', script), ...args], {
    input,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  assert.equal(result.status, 0, `${script}: ${result.stderr}`);
  return result.stdout
    .trimEnd()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Decoded);
}

test('readers of schema v1 (Apache Avro for Python) read every record of the topic and of the archive, access records included', async (t) => {
  // one partition: every partition an export verifies must hold a digest
  const { topic } = await createTopics(t, 1);
  const { bucket } = await testBucket(t);
  const dir = await tempDir(t);
  const env = pipelineEnv(topic, bucket, {
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
    AUDIT_SOURCE: 'audit-host-7',
  });
  const ok = async (args: string[]): Promise<string> => {
    const result = await runCli(args, env);
    assert.equal(result.code, 0, `${args.join(' ')}: ${result.stderr}`);
    return result.stdout;
  };
  await ok(['emit', '--type', 'PackageInstall', '--package', 'lodash', '--user', 'ada']);
  await ok(['emit', '--type', 'IntegrityCheck', '--package', 'left-pad', '--user', 'bob']);
  await ok(['emit', '--type', 'ConfigurationChange', '--user', 'carol']);
  assert.match(await ok(['archive', '--once']), /archived 3 events/);

  // two exports, verified against the stack's digests, one of them refused
  const lodash = await ok(['export', '--format', 'ndjson', '--package', 'lodash']);
  assert.equal(lodash.trimEnd().split('\n').length, 1);
  const refused = await runCli(['export', '--format', 'json', '--from', 'yesterday'], env);
  assert.equal(refused.code, 2, 'a usage mistake is not an access: nothing is read or recorded');
  const nowhere = await runCli(
    ['export', '--format', 'csv', '--archive', join(dir, 'nowhere'), '--user', 'ada'],
    env,
  );
  assert.equal(nowhere.code, 2, nowhere.stderr);
  assert.match(await ok(['archive', '--once']), /archived 2 events/);

  // the topic, as a SIEM subscribed to it with schema v1 reads it
  const raw = spawnSync(
    'kcat',
    ['-b', brokers(), '-C', '-t', topic, '-o', 'beginning', '-e', '-q', '-f', '%R%s'],
    { maxBuffer: 64 * 1024 * 1024 },
  );
  assert.equal(raw.status, 0, raw.stderr?.toString());
  const onTopic = python('decode_single_objects.py', [V1], raw.stdout);
  assert.equal(onTopic.length, 5, 'three events and two access records');

  // the archive, fetched with awscli, read with v1 as the reader schema
  const fetched = join(dir, 'fetched');
  const s = s3Settings();
  const aws = spawnSync(
    '/usr/bin/aws',
    [
      's3',
      'cp',
      '--recursive',
      '--quiet',
      `s3://${bucket}/${PREFIX}/`,
      fetched,
      '--endpoint-url',
      s.endpoint,
    ],
    {
      encoding: 'utf8',
      env: {
        ...process.env,
        AWS_ACCESS_KEY_ID: s.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: s.credentials.secretAccessKey,
        AWS_DEFAULT_REGION: s.region,
      },
    },
  );
  assert.equal(aws.status, 0, aws.stderr);
  const archived = python('read_container_records.py', [V1, fetched]);
  assert.deepEqual(
    archived.map((e) => e.id).sort(),
    onTopic.map((e) => e.id).sort(),
    'every record of the topic is archived once and reads with v1',
  );

  for (const records of [onTopic, archived]) {
    const access = records.filter((e) => e.details['audit_access'] !== undefined);
    assert.equal(access.length, 2);
    for (const r of access) {
      assert.equal(r.event_type, 'IntegrityCheck');
      assert.equal(r.user, userInfo().username);
      assert.equal(r.package_name, null);
      assert.equal(r.source, 'audit-host-7');
      assert.equal(r.details['audit_access.channel'], 'cli');
    }
    const [first, second] = access.sort((a, b) =>
      (a.details['audit_access.format'] ?? '').localeCompare(
        b.details['audit_access.format'] ?? '',
      ),
    );
    // csv: the refused one; ndjson: the verified export of lodash
    assert.equal(second?.details['audit_access.format'], 'ndjson');
    assert.equal(second?.details['audit_access.filters'], '{"package":"lodash"}');
    assert.equal(second?.details['audit_access.events'], '1');
    assert.equal(second?.details['audit_access.verification'], 'verified');
    assert.equal(second?.success, true);
    assert.equal(first?.details['audit_access.format'], 'csv');
    assert.equal(first?.details['audit_access.filters'], '{"user":"ada"}');
    assert.equal(first?.success, false);
  }
});
