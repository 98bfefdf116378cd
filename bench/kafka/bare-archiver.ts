/**
 * The baseline of archive_vs_bare and rss_archiver_vs_bare, run as its own
 * process: a bare kafkajs consumer (a fresh group, from the beginning, one
 * partition at a time, the fetch sizes of the archiver's consumer)
 * that writes the raw values of each partition to S3 objects of
 * BENCH_BATCH_EVENTS events (4-byte length before each value; no decoding,
 * no checks, no hash chain, no compression) and commits the partition's offset
 * after each object. Like `audit-trail archive --once`, it stops when every
 * partition is archived up to its end offset at start.
 *
 *   BENCH_BROKERS=... BENCH_TOPIC=... BENCH_GROUP=... BENCH_PREFIX=... BENCH_BATCH_EVENTS=10000 \
 *   BENCH_FETCH_MAX_BYTES=... BENCH_FETCH_MAX_BYTES_PER_PARTITION=... \
 *   S3_ENDPOINT=... S3_BUCKET=... AWS_REGION=... AWS_ACCESS_KEY_ID=... AWS_SECRET_ACCESS_KEY=... \
 *   node dist/bench/kafka/bare-archiver.js
 */
import kafkajs from 'kafkajs';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { s3Client } from './stack.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

const topic = required('BENCH_TOPIC');
const groupId = required('BENCH_GROUP');
const prefix = required('BENCH_PREFIX');
const bucket = required('S3_BUCKET');
const batchEvents = Number(required('BENCH_BATCH_EVENTS'));
const kafka = new kafkajs.Kafka({
  clientId: 'audit-trail-bench-bare',
  brokers: required('BENCH_BROKERS').split(','),
  logLevel: kafkajs.logLevel.NOTHING,
});
const s3 = s3Client(process.env as Record<string, string>);

const admin = kafka.admin();
await admin.connect();
const ends = new Map(
  (await admin.fetchTopicOffsets(topic))
    .filter((partition) => Number(partition.high) > 0)
    .map((partition) => [partition.partition, Number(partition.high)]),
);
await admin.disconnect();

interface Pending {
  values: Buffer[];
  first: number;
}
const pending = new Map<number, Pending>();
let events = 0;
let objects = 0;
let done!: () => void;
const finished = new Promise<void>((resolve) => (done = resolve));
if (ends.size === 0) done();

const consumer = kafka.consumer({
  groupId,
  sessionTimeout: 30_000,
  maxBytesPerPartition: Number(required('BENCH_FETCH_MAX_BYTES_PER_PARTITION')),
  maxBytes: Number(required('BENCH_FETCH_MAX_BYTES')),
  allowAutoTopicCreation: false,
});

async function writeObject(partition: number, next: number): Promise<void> {
  const batch = pending.get(partition);
  if (batch === undefined || batch.values.length === 0) return;
  const parts: Buffer[] = [];
  for (const value of batch.values) {
    const length = Buffer.allocUnsafe(4);
    length.writeUInt32BE(value.length);
    parts.push(length, value);
  }
  const body = Buffer.concat(parts);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: `${prefix}/${topic}/${partition}/${String(batch.first).padStart(20, '0')}.bin`,
      Body: body,
      ContentLength: body.length,
    }),
  );
  await consumer.commitOffsets([{ topic, partition, offset: String(next) }]);
  events += batch.values.length;
  objects++;
  pending.delete(partition);
}

await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  partitionsConsumedConcurrently: 1,
  eachBatch: async (payload) => {
    const { batch } = payload;
    const { partition } = batch;
    const end = ends.get(partition);
    for (const message of batch.messages) {
      const offset = Number(message.offset);
      if (end === undefined || offset >= end) break;
      let open = pending.get(partition);
      if (open === undefined) {
        open = { values: [], first: offset };
        pending.set(partition, open);
      }
      open.values.push(message.value ?? Buffer.alloc(0));
      if (open.values.length >= batchEvents) await writeObject(partition, offset + 1);
      if (offset + 1 === end) {
        await writeObject(partition, end);
        ends.delete(partition);
        if (ends.size === 0) done();
      }
    }
    await payload.heartbeat();
  },
});
await finished;
await consumer.disconnect();
s3.destroy();
process.stdout.write(`archived ${events} events into ${objects} objects\n`);
