import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers.js';
import { pipelineEnv, startArchiver, waitUntil } from './pipeline.js';
import { eventFiles } from './event-files.js';
import { createTopics, ROOT, runCli, testBucket } from './stack.js';

/** A loopback port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address !== null ? address.port : 9;
}

/** A topic with a few events on it and the environment of an archiver into `bucket`. */
async function pipelineWithEvents(t: Parameters<typeof createTopics>[0], bucket: string) {
  const { topic } = await createTopics(t, 2);
  const dir = await tempDir(t);
  const env = pipelineEnv(topic, bucket);
  const { files } = eventFiles(dir, 1, 50, 5);
  const produced = await runCli(['produce', '--from', files[0] as string], {
    ...env,
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
  });
  assert.equal(produced.code, 0, produced.stderr);
  return env;
}

/** stderr without Node's own process warnings (the AWS SDK warns about Node 20 on every start). */
function ownLines(stderr: string): string[] {
  const lines: string[] = [];
  let inWarning = false;
  for (const line of stderr.split('\n')) {
    if (/^\(node:\d+\) \w*Warning/.test(line)) inWarning = true;
    if (!inWarning && line.trim() !== '') lines.push(line);
    if (line.startsWith('(Use `node --trace-warnings')) inWarning = false;
  }
  return lines;
}

/** Exits on its own, non-zero, soon, with one coded line on stderr. */
async function assertFailsFast(env: NodeJS.ProcessEnv, code: RegExp): Promise<void> {
  const started = Date.now();
  const run = await runCli(['archive'], env, 60_000);
  const seconds = (Date.now() - started) / 1000;
  assert.equal(run.code, 1, `exit code; stderr: ${run.stderr}`);
  const lines = ownLines(run.stderr);
  assert.equal(lines.length, 1, `one line on stderr: ${run.stderr}`);
  assert.match(lines[0] as string, code);
  assert.ok(seconds < 45, `exited after ${seconds} s`);
}

test('archive into a bucket that does not exist exits non-zero at once with a coded line', async (t) => {
  const env = await pipelineWithEvents(t, 'no-such-bucket-here');
  await assertFailsFast(env, /^audit-trail: NO_SUCH_BUCKET: .*no-such-bucket-here/);
});

test('archive with credentials the S3 server refuses exits non-zero at once with a coded line', async (t) => {
  const { bucket } = await testBucket(t);
  const env = await pipelineWithEvents(t, bucket);
  await assertFailsFast(
    { ...env, AWS_ACCESS_KEY_ID: 'nobody', AWS_SECRET_ACCESS_KEY: 'not-the-secret' },
    /^audit-trail: ACCESS_DENIED: /,
  );
});

test('an archiver whose S3 server is unreachable stops within its stop timeout on SIGTERM', async (t) => {
  const env = await pipelineWithEvents(t, 'audit-archive');
  const archiver = startArchiver({
    ...env,
    S3_ENDPOINT: `http://127.0.0.1:${await closedPort()}`,
    AUDIT_ARCHIVER_STOP_TIMEOUT_MS: '10000',
    AUDIT_LOG_LEVEL: 'warn',
  });
  t.after(() => archiver.child.kill('SIGKILL'));
  await waitUntil(
    () => /object store unavailable, retrying/.test(archiver.log()),
    60_000,
    'the archiver to retry the unreachable store',
  );
  await sleep(2000);
  const signalled = Date.now();
  archiver.child.kill('SIGTERM');
  const exited = await Promise.race([archiver.exited, sleep(40_000).then(() => 'still running')]);
  const seconds = (Date.now() - signalled) / 1000;
  assert.notEqual(exited, 'still running', archiver.log());
  assert.ok(seconds < 25, `stopped ${seconds} s after SIGTERM (bound 10 s plus start-up slack)`);
  t.diagnostic(`stopped ${seconds.toFixed(1)} s after SIGTERM with exit code ${String(exited)}`);
});

function stack(...args: string[]): void {
  const result = spawnSync(process.execPath, [join(ROOT, 'dist/scripts/stack.js'), ...args], {
    encoding: 'utf8',
  });
  assert.equal(result.status, 0, result.stdout + result.stderr);
}

test('an archiver whose Kafka broker and S3 server both went away stops within its stop timeout on SIGTERM', async (t) => {
  const { bucket } = await testBucket(t);
  const env = await pipelineWithEvents(t, bucket);
  const archiver = startArchiver({
    ...env,
    AUDIT_BATCH_MAX_AGE_MS: '60000', // it holds an open batch when the servers go
    AUDIT_ARCHIVER_STOP_TIMEOUT_MS: '10000',
    AUDIT_LOG_LEVEL: 'info',
  });
  t.after(() => archiver.child.kill('SIGKILL'));
  await waitUntil(
    () => /partition resumed from the archive/.test(archiver.log()),
    60_000,
    'the archiver to take its partitions',
  );
  await sleep(2000);
  let seconds = 0;
  let exited: number | null | string;
  stack('down');
  try {
    await sleep(2000);
    const signalled = Date.now();
    archiver.child.kill('SIGTERM');
    exited = await Promise.race([archiver.exited, sleep(40_000).then(() => 'still running')]);
    seconds = (Date.now() - signalled) / 1000;
  } finally {
    stack('up');
  }
  const ownLog = archiver
    .log()
    .split('\n')
    .filter((line) => !line.includes('"kafkajs"'));
  assert.notEqual(exited, 'still running', ownLog.join('\n').slice(-3000));
  assert.ok(seconds < 25, `stopped ${seconds} s after SIGTERM (bound 10 s plus slack)`);
  t.diagnostic(`stopped ${seconds.toFixed(1)} s after SIGTERM with exit code ${String(exited)}`);
});
