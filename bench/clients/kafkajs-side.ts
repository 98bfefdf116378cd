/**
 * The kafkajs side of the client figures, in its own process like the others
 * (settings: bench/clients/side.ts). produce: the bare producer of
 * produce_vs_kafkajs' baseline (sendBare of bench/kafka/stack.ts: idempotent,
 * one request in flight, acks=all, gzip, murmur2), one awaited send per
 * request. consume: a bare consumer as bench/kafka/bare-archiver.ts (a fresh
 * group from the beginning, 1 MiB per partition fetch, one partition at a
 * time) committing after each object.
 */
import { createRequire } from 'node:module';
import kafkajs from 'kafkajs';
import { sendBare } from '../kafka/stack.js';
import { brokers, runSide, topic } from './side.js';

const version = (createRequire(import.meta.url)('kafkajs/package.json') as { version: string })
  .version;
const client = `kafkajs ${version}`;
const kafka = new kafkajs.Kafka({
  clientId: 'audit-trail-bench-kafkajs',
  brokers,
  logLevel: kafkajs.logLevel.NOTHING,
});

await runSide(client, {
  async produce({ requests, settings, timed }) {
    await timed(() => sendBare(kafka, topic, requests, settings.ackTimeoutMs));
  },
  async consume(side) {
    const consumer = kafka.consumer({
      groupId: side.group,
      sessionTimeout: 30_000,
      maxBytesPerPartition: 1024 * 1024,
      allowAutoTopicCreation: false,
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: side.eachBatch(consumer),
    });
    await side.finished;
    await consumer.disconnect();
  },
});
