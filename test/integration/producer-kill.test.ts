/**
 * The producer killed while it ships: its checkpoint (SHIPPED) is written in
 * the background and may trail the broker's acknowledgements, never lead them;
 * a restart sends again from the checkpoint, and the archiver drops what was
 * already on the topic by id.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../helpers.js';
import { eventFiles } from './event-files.js';
import { assertArchivedOnce, pipelineEnv, startMember, waitUntil } from './pipeline.js';
import { createTopics, kafkaClient, runCli, testBucket } from './stack.js';

/** The offset in the spool's checkpoint, 0 while there is none. */
function shipped(spoolDir: string): number {
  try {
    return Number(readFileSync(join(spoolDir, 'SHIPPED'), 'utf8').trim());
  } catch {
    return 0;
  }
}

/** Records on `topic`, all partitions together. */
async function recordsOn(topic: string): Promise<number> {
  const admin = kafkaClient().admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  } finally {
    await admin.disconnect();
  }
}

test('the producer killed with SIGKILL while shipping, 3 times: the checkpoint never claims more than the topic holds, and every event is archived once', async (t) => {
  const partitions = 6;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 1, 30_000, 40);
  const file = files[0] as string;
  const spoolDir = join(dir, 'spool');
  const env = pipelineEnv(topic, bucket, {
    AUDIT_SPOOL_DIR: spoolDir,
    AUDIT_BATCH_MAX_EVENTS: '2000',
  });

  for (let kill = 1; kill <= 3; kill++) {
    const before = shipped(spoolDir);
    const producer = startMember(env, ['produce', '--from', file]);
    // killed once the checkpoint has moved on by a few batches: shipping is under way
    await waitUntil(
      () => shipped(spoolDir) >= before + 4000 || producer.child.exitCode !== null,
      60_000,
      `the checkpoint to move past ${before + 4000} (kill ${kill})`,
    );
    await sleep(kill * 37); // a different moment of the shipping each time
    producer.child.kill('SIGKILL');
    await producer.exited;
    const checkpoint = shipped(spoolDir);
    const onTopic = await recordsOn(topic);
    assert.ok(
      checkpoint <= onTopic,
      `kill ${kill}: the checkpoint says ${checkpoint} records were acknowledged, the topic holds ${onTopic}`,
    );
  }
  // a last run to its end: what the spool holds is shipped, the file's events added again
  const last = await runCli(['produce', '--from', file], env);
  assert.equal(last.code, 0, last.stderr);
  assert.ok((await recordsOn(topic)) >= ids.size, 'every event is on the topic at least once');
  await assertArchivedOnce(store, env, topic, partitions, ids);
});
