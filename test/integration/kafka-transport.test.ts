import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { silentLogger } from '../../common/logger.js';
import { KafkaTransport } from '../../producer/kafka-transport.js';
import { eventTransportConformance } from '../producer/event-transport.conformance.js';
import { tempDir } from '../helpers.js';
import { createTopics, kafkaClient } from './stack.js';

/** The values on `topic` (one partition) in offset order, once `expected` are there or after 30 s. */
async function valuesOn(topic: string, expected: number): Promise<Buffer[]> {
  const consumer = kafkaClient().consumer({ groupId: `it-read-${randomBytes(4).toString('hex')}` });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic], fromBeginning: true });
  const values: Buffer[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      if (message.value !== null) values.push(message.value);
    },
  });
  const deadline = Date.now() + 30_000;
  while (values.length < expected && Date.now() < deadline) await sleep(100);
  await sleep(500); // nothing more than expected
  await consumer.disconnect();
  return values;
}

eventTransportConformance('KafkaTransport', async (t) => {
  const { topic } = await createTopics(t, 1);
  const transport = new KafkaTransport({
    kafka: kafkaClient(),
    spoolDir: await tempDir(t),
    topic,
    closeTimeoutMs: 30_000,
    logger: silentLogger(),
  });
  t.after(() => transport.close());
  return { transport, durable: (expected) => valuesOn(topic, expected) };
});
