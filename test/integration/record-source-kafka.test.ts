import { randomBytes } from 'node:crypto';
import { silentLogger } from '../../common/logger.js';
import { GroupConsumer } from '../../consumers/runtime/group-consumer.js';
import { recordSourceConformance } from '../consumers/record-source.conformance.js';
import { createTopics, kafkaClient } from './stack.js';

recordSourceConformance('GroupConsumer on Kafka', async (t) => {
  const { topic } = await createTopics(t, 1);
  const groupId = `it-source-${randomBytes(4).toString('hex')}`;
  const producer = kafkaClient().producer();
  await producer.connect();
  t.after(() => producer.disconnect());
  return {
    topic,
    deliveryTimeoutMs: 30_000,
    append: async (values) => {
      await producer.send({ topic, acks: -1, messages: values.map((value) => ({ value })) });
    },
    open: () =>
      new GroupConsumer({
        kafka: kafkaClient(),
        groupId,
        topic,
        sessionTimeoutMs: 6000,
        logger: silentLogger(),
      }),
  };
});
