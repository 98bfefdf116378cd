import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { archivedObjects } from '../../consumers/archiver/archive-resume.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';
import { tempDir } from '../helpers.js';
import { createTopics, MAIN, ROOT, runCli, s3Settings, testBucket } from './stack.js';
import { eventFiles } from './event-files.js';
import { PREFIX, pipelineEnv, readPartitions } from './pipeline.js';

const cli = runCli;

function assertOrderPerPackage(events: AuditEventRecord[]): void {
  const last = new Map<string, number>();
  for (const event of events) {
    const stream = `${event.details['producer']}/${event.package_name}`;
    const seq = Number(event.details['seq']);
    assert.ok(seq > (last.get(stream) ?? -1), `${stream}: ${seq} after ${last.get(stream)}`);
    last.set(stream, seq);
  }
}

test('100,000 events from four producers, the archiver killed with SIGKILL 10 times: every event archived exactly once, in order', async (t) => {
  const partitions = 6;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 4, 25_000, 40);
  // a producer that resends 2,000 events it had sent already (new offsets, same ids)
  const resend = join(dir, 'resend.ndjson');
  writeFileSync(
    resend,
    spawnSync('head', ['-n', '2000', files[0] as string], { encoding: 'utf8' }).stdout,
  );

  const env = pipelineEnv(topic, bucket, { AUDIT_BATCH_MAX_EVENTS: '2000' });
  const producing = Promise.all(
    [...files, resend].map((file, p) =>
      cli(['produce', '--from', file], { ...env, AUDIT_SPOOL_DIR: join(dir, `spool-${p}`) }),
    ),
  );

  let kills = 0;
  let producersDone = false;
  void producing.then(() => (producersDone = true));
  while (kills < 10) {
    const archiver: ChildProcess = spawn(process.execPath, [MAIN, 'archive'], {
      env,
      stdio: 'ignore',
    });
    await sleep(1500 + Math.floor(Math.random() * 3000));
    archiver.kill('SIGKILL');
    await new Promise((resolve) => archiver.once('exit', resolve));
    kills++;
  }
  for (const result of await producing) assert.equal(result.code, 0, result.stderr);
  assert.ok(producersDone);

  const final = await cli(['archive', '--once'], env);
  assert.equal(final.code, 0, final.stderr);

  const archive = await readPartitions(store, topic, partitions);
  assert.equal(archive.events.length, ids.size, 'every event once: no loss, no duplicate');
  const verified = await cli(['verify'], env);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /OK: no object modified, missing, reordered or uncovered/);
  assert.doesNotMatch(verified.stdout, /pending/, 'the final clean stop closed every interval');
  assert.deepEqual(new Set(archive.events.map((e) => e.id)), ids);
  assertOrderPerPackage(archive.events);

  const jsonBytes = archive.events.reduce((sum, e) => sum + JSON.stringify(e).length, 0);
  t.diagnostic(
    `${kills} kills; ${archive.objects} objects; ${(archive.bytes / archive.events.length).toFixed(1)} bytes per event in the archive ` +
      `against ${(jsonBytes / archive.events.length).toFixed(1)} as JSON (${((100 * archive.bytes) / jsonBytes).toFixed(1)}%)`,
  );

  // Apache Avro for Python reads the objects fetched with awscli, with the right count
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
  const python = spawnSync(
    '/usr/bin/python3',
    [join(ROOT, 'test/interop/count_container_records.py'), fetched],
    { encoding: 'utf8' },
  );
  assert.equal(python.status, 0, python.stderr);
  assert.equal(
    python.stdout.trim(),
    `${archive.objects} objects ${ids.size} records ${ids.size} distinct ids`,
  );
});

function stack(...args: string[]): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/stack.js'), ...args], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
}

test('the S3 server stopped for 20 seconds mid-run: the archiver waits and retries, nothing lost, no duplicate', async (t) => {
  const partitions = 3;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 2, 10_000, 20);
  const env = pipelineEnv(topic, bucket, {
    AUDIT_BATCH_MAX_EVENTS: '1000',
    AUDIT_LOG_LEVEL: 'warn',
  });

  const archiver = spawn(process.execPath, [MAIN, 'archive'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let archiverLog = '';
  archiver.stderr.on('data', (d: Buffer) => (archiverLog += d.toString()));
  const exited = new Promise<number | null>((resolve) => archiver.once('exit', resolve));

  assert.equal(
    (
      await cli(['produce', '--from', files[0] as string], {
        ...env,
        AUDIT_SPOOL_DIR: join(dir, 'spool-0'),
      })
    ).code,
    0,
  );
  const deadline = Date.now() + 60_000;
  while ((await archivedObjects(store, PREFIX, topic, 0)).length === 0) {
    assert.ok(Date.now() < deadline, 'the archiver writes objects');
    await sleep(250);
  }

  stack('down', 's3');
  const outageStarted = Date.now();
  try {
    // installers go on while the archive is unreachable
    assert.equal(
      (
        await cli(['produce', '--from', files[1] as string], {
          ...env,
          AUDIT_SPOOL_DIR: join(dir, 'spool-1'),
        })
      ).code,
      0,
    );
    await sleep(Math.max(0, 20_000 - (Date.now() - outageStarted)));
  } finally {
    stack('up');
  }

  await sleep(3000);
  archiver.kill('SIGTERM');
  assert.equal(await exited, 0, archiverLog);
  assert.match(archiverLog, /object store unavailable, retrying/);
  const final = await cli(['archive', '--once'], env);
  assert.equal(final.code, 0, final.stderr);

  const archive = await readPartitions(store, topic, partitions);
  assert.equal(archive.events.length, ids.size);
  assert.deepEqual(new Set(archive.events.map((e) => e.id)), ids);
  assertOrderPerPackage(archive.events);
});
