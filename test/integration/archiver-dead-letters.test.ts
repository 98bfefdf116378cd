import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { DLQ_HEADERS } from '../../consumers/runtime/kafka-dead-letters.js';
import { tempDir } from '../helpers.js';
import { pipelineEnv, readPartitions } from './pipeline.js';
import { eventFiles } from './event-files.js';
import { createTopics, kafkaClient, runCli, testBucket } from './stack.js';

/** Every record of `topic` (one partition), read with a plain kafkajs consumer. */
async function readAll(topic: string, expected: number, timeoutMs: number) {
  const consumer = kafkaClient().consumer({ groupId: `it-raw-${topic}-${Date.now()}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const records: { headers: Record<string, string> }[] = [];
  await new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, timeoutMs);
    void consumer.run({
      eachMessage: async ({ message }) => {
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(message.headers ?? {}))
          headers[k] = Buffer.isBuffer(v) ? v.toString() : String(v);
        records.push({ headers });
        if (records.length >= expected) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return records;
}

test('poison records at the tail of a partition: each goes to the dead-letter topic once and archive --once finishes', async (t) => {
  const { topic, dlq } = await createTopics(t, 1);
  const { bucket, store } = await testBucket(t);
  const dir = await tempDir(t);
  const { files, ids } = eventFiles(dir, 1, 300, 5);
  const env = pipelineEnv(topic, bucket);
  const produced = await runCli(['produce', '--from', files[0] as string], {
    ...env,
    AUDIT_SPOOL_DIR: join(dir, 'spool'),
  });
  assert.equal(produced.code, 0, produced.stderr);
  // six records no archiver can read: garbage, a truncated encoding, an unknown fingerprint
  const producer = kafkaClient().producer();
  await producer.connect();
  await producer.send({
    topic,
    messages: [
      { key: 'poison', value: Buffer.from('not avro at all') },
      { key: 'poison', value: Buffer.from([0xc3, 0x01, 1, 2]) },
      { key: 'poison', value: Buffer.from([0xc3, 0x01, 0, 0, 0, 0, 0, 0, 0, 0, 0x02]) },
      { key: 'poison', value: Buffer.alloc(0) },
      { key: 'poison', value: Buffer.from('{"id":"json, not avro"}') },
      { key: 'poison', value: Buffer.from([0xff, 0xfe, 0xfd]) },
    ],
  });
  await producer.disconnect();

  const archived = await runCli(['archive', '--once'], env, 60_000);
  assert.equal(archived.code, 0, archived.stdout + archived.stderr);

  const letters = await readAll(dlq, 6, 10_000);
  const offsets = letters.map((r) => r.headers[DLQ_HEADERS.offset]);
  assert.deepEqual(
    offsets.sort(),
    ['300', '301', '302', '303', '304', '305'],
    'each bad record once in the dead-letter topic',
  );
  const archive = await readPartitions(store, topic, 1);
  assert.deepEqual(new Set(archive.events.map((e) => e.id)), ids);
  assert.equal(archive.events.length, ids.size);
  const again = await runCli(['archive', '--once'], env, 60_000);
  assert.equal(again.code, 0, again.stderr);
  assert.equal((await readAll(dlq, 7, 5000)).length, 6, 'a second run sends none again');
});

test('AUDIT_DLQ_TOPIC names the dead-letter topic of the archiver', async (t) => {
  const { topic, dlq } = await createTopics(t, 1, (name) => `${name}-poison`);
  const { bucket } = await testBucket(t);
  const producer = kafkaClient().producer();
  await producer.connect();
  await producer.send({ topic, messages: [{ key: 'poison', value: Buffer.from('not avro') }] });
  await producer.disconnect();
  const archived = await runCli(
    ['archive', '--once'],
    { ...pipelineEnv(topic, bucket), AUDIT_DLQ_TOPIC: dlq },
    60_000,
  );
  assert.equal(archived.code, 0, archived.stdout + archived.stderr);
  const letters = await readAll(dlq, 1, 10_000);
  assert.deepEqual(
    letters.map((r) => r.headers[DLQ_HEADERS.offset]),
    ['0'],
  );
});
