import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { META } from '../../consumers/archiver/archive-object.js';
import { archivedObjects } from '../../consumers/archiver/archive-resume.js';
import { decodeContainerHeader } from '../../schemas/container.js';
import { tempDir } from '../helpers.js';
import { PREFIX, pipelineEnv, startArchiver, waitUntil } from './pipeline.js';
import { eventFiles } from './event-files.js';
import { createTopics, kafkaClient, runCli, testBucket } from './stack.js';

test('archive --once after a member was killed mid-batch counts exactly what this run wrote', async (t) => {
  const partitions = 3;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 1, 3000, 30);
  const resend = join(dir, 'resend.ndjson');
  writeFileSync(
    resend,
    spawnSync('head', ['-n', '500', files[0] as string], { encoding: 'utf8' }).stdout,
  );
  const env = pipelineEnv(topic, bucket, { AUDIT_BATCH_MAX_EVENTS: '200' });
  for (const [n, file] of [files[0] as string, resend].entries()) {
    const produced = await runCli(['produce', '--from', file], {
      ...env,
      AUDIT_SPOOL_DIR: join(dir, `spool-${n}`),
    });
    assert.equal(produced.code, 0, produced.stderr);
  }
  const producer = kafkaClient().producer();
  await producer.connect();
  const poison = await producer.send({
    topic,
    messages: [0, 1, 2].map((partition) => ({ partition, value: Buffer.from('no event') })),
  });
  await producer.disconnect();
  const poisonAt = new Set(poison.map((p) => `${p.partition}/${p.baseOffset ?? ''}`));

  // a member killed outright stays in the group until its session ends: the next run sees a rebalance
  const killed = startArchiver(env);
  t.after(() => killed.child.kill('SIGKILL'));
  await waitUntil(
    async () => (await archivedObjects(store, PREFIX, topic, 0)).length > 0,
    60_000,
    'a first object',
  );
  killed.child.kill('SIGKILL');
  await killed.exited;
  const before = new Set<string>();
  for (let p = 0; p < partitions; p++)
    for (const o of await archivedObjects(store, PREFIX, topic, p)) before.add(o.key);

  const run = await runCli(['archive', '--once'], env, 120_000);
  assert.equal(run.code, 0, run.stderr);

  let events = 0;
  let objects = 0;
  let deadLetters = 0;
  let duplicates = 0;
  let archivedEvents = 0;
  for (let p = 0; p < partitions; p++) {
    for (const o of await archivedObjects(store, PREFIX, topic, p)) {
      const count = Number(
        decodeContainerHeader(await store.get(o.key)).header.metadata[META.count],
      );
      archivedEvents += count;
      if (before.has(o.key)) continue;
      objects++;
      events += count;
      let poisoned = 0;
      for (let offset = o.firstOffset; offset <= o.lastOffset; offset++)
        if (poisonAt.has(`${p}/${offset}`)) poisoned++;
      deadLetters += poisoned;
      duplicates += o.lastOffset - o.firstOffset + 1 - count - poisoned;
    }
  }
  assert.equal(archivedEvents, ids.size, 'the archive holds every event once');
  assert.ok(objects > 0 && events > 0, 'the run had work to do');
  assert.equal(
    run.stdout.trim(),
    `archived ${events} events into ${objects} objects (${duplicates} duplicates dropped, ${deadLetters} dead letters)`,
  );
});

function countsOf(output: string): number[] {
  const m =
    /archived (\d+) events into (\d+) objects \((\d+) duplicates dropped, (\d+) dead letters\)/.exec(
      output,
    );
  assert.ok(m !== null, `a summary line in ${output}`);
  return m.slice(1).map(Number);
}

test('two members with rebalances between them: their summaries add up to the archive', async (t) => {
  const partitions = 4;
  const { topic } = await createTopics(t, partitions);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 1, 4000, 40);
  const resend = join(dir, 'resend.ndjson');
  writeFileSync(
    resend,
    spawnSync('head', ['-n', '300', files[0] as string], { encoding: 'utf8' }).stdout,
  );
  const env = pipelineEnv(topic, bucket, { AUDIT_BATCH_MAX_EVENTS: '100' });
  const first = startArchiver(env);
  t.after(() => first.child.kill('SIGKILL'));
  for (const [n, file] of [files[0] as string, resend].entries()) {
    const produced = await runCli(['produce', '--from', file], {
      ...env,
      AUDIT_SPOOL_DIR: join(dir, `spool-${n}`),
    });
    assert.equal(produced.code, 0, produced.stderr);
  }
  await waitUntil(
    async () => (await archivedObjects(store, PREFIX, topic, 0)).length > 0,
    60_000,
    'the first member to write',
  );
  const second = startArchiver(env); // joins: the partitions are shared out again
  t.after(() => second.child.kill('SIGKILL'));
  await sleep(8000);
  second.child.kill('SIGTERM'); // leaves: the first member gets them all back
  assert.equal(await second.exited, 0, second.log());
  await sleep(4000);
  first.child.kill('SIGTERM');
  assert.equal(await first.exited, 0, first.log());

  const printed = [countsOf(first.log()), countsOf(second.log())];
  const sum = (i: number) => printed.reduce((total, counts) => total + (counts[i] ?? 0), 0);
  let events = 0;
  let objects = 0;
  let ranges = 0;
  for (let p = 0; p < partitions; p++) {
    for (const o of await archivedObjects(store, PREFIX, topic, p)) {
      events += Number(decodeContainerHeader(await store.get(o.key)).header.metadata[META.count]);
      objects++;
      ranges += o.lastOffset - o.firstOffset + 1;
    }
  }
  assert.ok(events <= ids.size);
  assert.deepEqual(
    [sum(0), sum(1), sum(2), sum(3)],
    [events, objects, ranges - events, 0],
    `the summaries ${JSON.stringify(printed)} add up to what the archive holds`,
  );
});

test('archive runs as the consumer group AUDIT_ARCHIVER_GROUP names, and only as it', async (t) => {
  const { topic } = await createTopics(t, 2);
  const { bucket } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 1, 300, 10);
  const group = `it-archiver-group-${topic}`;
  const env = pipelineEnv(topic, bucket, { AUDIT_ARCHIVER_GROUP: group });
  const produced = await runCli(['produce', '--from', files[0] as string], env);
  assert.equal(produced.code, 0, produced.stderr);
  const run = await runCli(['archive', '--once'], env, 120_000);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(countsOf(run.stdout)[0], ids.size);

  const admin = kafkaClient().admin();
  await admin.connect();
  t.after(() => admin.disconnect());
  const committed = async (groupId: string) =>
    (await admin.fetchOffsets({ groupId, topics: [topic] }))
      .flatMap(({ partitions }) => partitions)
      .reduce((sum, { offset }) => sum + Math.max(0, Number(offset)), 0);
  assert.equal(await committed(group), ids.size, 'its offsets are committed under the named group');
  assert.equal(await committed('audit-archiver'), 0, 'nothing under the default group');
});
