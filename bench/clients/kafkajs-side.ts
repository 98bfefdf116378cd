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
    await timed(async () => {
      const producer = kafka.producer({
        idempotent: true,
        maxInFlightRequests: 1,
        allowAutoTopicCreation: false,
        createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
      });
      await producer.connect();
      for (const messages of requests)
        await producer.send({
          topic,
          acks: -1,
          timeout: settings.ackTimeoutMs,
          compression: kafkajs.CompressionTypes.GZIP,
          messages,
        });
      await producer.disconnect();
    });
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
