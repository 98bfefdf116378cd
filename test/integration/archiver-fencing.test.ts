import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { archivedObjects } from '../../consumers/archiver/archive-resume.js';
import { tempDir } from '../helpers.js';
import {
  assertArchivedOnce,
  PREFIX,
  pipelineEnv,
  readPartitions,
  startArchiver,
  stopMember,
  waitUntil,
} from './pipeline.js';
import { eventFiles } from './event-files.js';
import { createTopics, runCli, testBucket } from './stack.js';

/** `produce --from file` through its own spool; fails the test unless it exits 0. */
async function produced(env: NodeJS.ProcessEnv, file: string, spoolDir: string): Promise<void> {
  const result = await runCli(['produce', '--from', file], { ...env, AUDIT_SPOOL_DIR: spoolDir });
  assert.equal(result.code, 0, result.stderr);
}

test('an archiver member paused (SIGSTOP) past its session timeout and resumed writes nothing for the partition it lost', async (t) => {
  const { topic } = await createTopics(t, 1);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 2, 1500, 10);
  // batches close by age only, so that the paused member holds an open batch
  const env = pipelineEnv(topic, bucket, {
    AUDIT_BATCH_MAX_AGE_MS: '10000',
    AUDIT_BATCH_MAX_EVENTS: '100000',
    AUDIT_LOG_LEVEL: 'info',
  });
  const produce = (file: string, spool: string) => produced(env, file, join(dir, spool));

  await produce(files[0] as string, 'spool-0');
  const paused = startArchiver(env);
  const other = startArchiver(env); // declared here so that both are stopped whatever happens
  other.child.kill('SIGSTOP');
  t.after(() => {
    for (const p of [paused, other]) {
      p.child.kill('SIGCONT');
      p.child.kill('SIGKILL');
    }
  });
  await waitUntil(
    () => /partition resumed from the archive/.test(paused.log()),
    30_000,
    'the first member to take the partition',
  );
  await sleep(2000); // it reads the 1,500 events into its open batch
  assert.equal((await archivedObjects(store, PREFIX, topic, 0)).length, 0, 'the batch is open');

  paused.child.kill('SIGSTOP'); // a GC pause, a frozen VM
  other.child.kill('SIGCONT');
  await produce(files[1] as string, 'spool-1');
  // the other member gets the partition once the paused one's session has expired, and archives it
  await waitUntil(
    async () => (await archivedObjects(store, PREFIX, topic, 0)).length > 0,
    60_000,
    'the new owner to write an object',
  );
  paused.child.kill('SIGCONT'); // its batch is long past maxAgeMs: it would write it at once
  await sleep(5000);

  for (const p of [paused, other]) p.child.kill('SIGTERM');
  assert.equal(await paused.exited, 0, paused.log());
  assert.equal(await other.exited, 0, other.log());
  const final = await runCli(['archive', '--once'], env, 60_000);
  assert.equal(final.code, 0, final.stderr);

  const archive = await readPartitions(store, topic, 1);
  assert.equal(archive.events.length, ids.size, 'no duplicate, no loss');
  assert.deepEqual(new Set(archive.events.map((e) => e.id)), ids);
  const verified = await runCli(['verify'], env, 60_000);
  assert.equal(verified.code, 0, verified.stdout + verified.stderr);
  assert.match(verified.stdout, /OK/);
});

test('archive --once while another member of the group runs and producers publish: it ends once the partitions it holds are archived and the others committed by that member; nothing lost, no duplicate', async (t) => {
  const partitions = 6;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 2, 10_000, 30);
  // the running member writes a partial batch 3 s after its first record, then commits it
  const env = pipelineEnv(topic, bucket, {
    AUDIT_BATCH_MAX_EVENTS: '1000',
    AUDIT_BATCH_MAX_AGE_MS: '3000',
  });
  const produce = (file: string, spool: string) => produced(env, file, join(dir, spool));

  await produce(files[0] as string, 'spool-0');
  const member = startArchiver({ ...env, AUDIT_LOG_LEVEL: 'warn' });
  t.after(() => member.child.kill('SIGKILL'));
  await waitUntil(
    async () => (await archivedObjects(store, PREFIX, topic, 0)).length > 0,
    60_000,
    'a first object of the running member',
  );
  const producing = produce(files[1] as string, 'spool-1');
  // joins the group: the running member keeps some partitions, whose end it only learns from commits
  const once = await runCli(['archive', '--once'], { ...env, AUDIT_LOG_LEVEL: 'warn' }, 60_000);
  assert.equal(once.code, 0, once.stderr.slice(-3000));
  await producing;
  assert.equal(await stopMember(member, 30_000), 0, member.log().slice(-3000));
  await assertArchivedOnce(store, env, topic, partitions, ids);
});
