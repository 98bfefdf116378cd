/**
 * The kafkajs side of the client figures, in its own process like the others
 * (settings: bench/clients/side.ts). produce: a bare producer with the
 * settings of produce_vs_kafkajs' baseline (idempotent, one request in flight,
 * acks=all, gzip, murmur2), one awaited send per request. consume: a bare
 * consumer as bench/kafka/bare-archiver.ts (a fresh group from the beginning,
 * 1 MiB per partition fetch, one partition at a time) committing after each object.
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { PartitionObjects } from './objects.js';
import {
  brokers,
  endOffsets,
  mode,
  ObjectWriter,
  positive,
  produceSettings,
  report,
  required,
  requests,
  topic,
} from './side.js';

const version = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string })
  .version;
const client = `kafkajs ${version}`;
const kafka = new kafkajs.Kafka({
  clientId: 'audit-trail-bench-kafkajs',
  brokers,
  logLevel: kafkajs.logLevel.NOTHING,
});

async function produce(): Promise<void> {
  const { count, requests: batches } = await requests();
  const { ackTimeoutMs } = produceSettings();
  const started = process.hrtime.bigint();
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  for (const messages of batches)
    await producer.send({
      topic,
      acks: -1,
      timeout: ackTimeoutMs,
      compression: kafkajs.CompressionTypes.GZIP,
      messages,
    });
  await producer.disconnect();
  report(count, started, 0, client);
}

async function consume(): Promise<void> {
  const objects = new PartitionObjects(await endOffsets(), positive('BENCH_OBJECT_EVENTS'));
  const writer = new ObjectWriter();
  const started = process.hrtime.bigint();
  let done!: () => void;
  const finished = new Promise<void>((resolve) => (done = resolve));
  if (objects.done) done();
  const consumer = kafka.consumer({
    groupId: required('BENCH_GROUP'),
    sessionTimeout: 30_000,
    maxBytesPerPartition: 1024 * 1024,
    allowAutoTopicCreation: false,
  });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    autoCommit: false,
    partitionsConsumedConcurrently: 1,
    eachBatch: async (payload) => {
      const { batch } = payload;
      for (const message of batch.messages) {
        const object = objects.add(
          batch.partition,
          Number(message.offset),
          message.value ?? Buffer.alloc(0),
        );
        if (object === undefined) continue;
        await writer.write(object);
        await consumer.commitOffsets([
          { topic, partition: object.partition, offset: String(object.next) },
        ]);
        if (objects.done) done();
      }
      await payload.heartbeat();
    },
  });
  await finished;
  await consumer.disconnect();
  report(writer.events, started, writer.objects, client);
  writer.close();
}

await (mode === 'produce' ? produce() : consume());
