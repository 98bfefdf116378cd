/**
 * The @platformatic/kafka side of the client figures, run by the Node.js 24 of
 * scripts/node-lts.sh (the client needs Node.js >= 22), with the client that
 * bench/clients/install.sh put in BENCH_CLIENT_DIR (settings: bench/clients/side.ts).
 * produce: a bare Producer, idempotent (one request in flight), acks=all, gzip,
 * the Java/kafkajs murmur2 partitioner, one awaited send() per request of the
 * project's producer. consume: a bare Consumer of a fresh group from the
 * earliest offset, 1 MiB per partition fetch, no autocommit, writing the raw
 * values to S3 objects and committing after each (the message's commit()).
 */
import { brokers, loadClient, runSide, topic } from './side.js';

/** What the side uses of @platformatic/kafka's API. */
interface PlatformaticMessage {
  topic: string;
  partition: number;
  offset: bigint;
  value: Buffer;
  commit(callback: (error?: Error) => void): void;
}
interface PlatformaticModule {
  Producer: new (options: Record<string, unknown>) => {
    send(options: { messages: Record<string, unknown>[] }): Promise<unknown>;
    close(): Promise<void>;
  };
  Consumer: new (options: Record<string, unknown>) => {
    consume(
      options: Record<string, unknown>,
    ): Promise<AsyncIterable<PlatformaticMessage> & { close(): Promise<void> }>;
    close(force?: boolean): Promise<void>;
  };
  compatibilityPartitioner: unknown;
}

const NAME = '@platformatic/kafka';
const { module: kafka, version } = await loadClient<PlatformaticModule>(NAME);
const client = `${NAME} ${version}`;

await runSide(client, {
  async produce({ requests, settings, timed }) {
    const prepared = requests.map((messages) =>
      messages.map(({ key, value, headers }) => ({
        topic,
        key: Buffer.from(key),
        value,
        headers: new Map(
          Object.entries(headers).map(([name, text]) => [Buffer.from(name), Buffer.from(text)]),
        ),
      })),
    );
    await timed(async () => {
      const producer = new kafka.Producer({
        clientId: 'audit-trail-bench-platformatic',
        bootstrapBrokers: brokers,
        idempotent: true,
        acks: -1,
        compression: 'gzip',
        partitioner: kafka.compatibilityPartitioner,
        autocreateTopics: false,
        timeout: settings.ackTimeoutMs,
      });
      for (const messages of prepared) await producer.send({ messages });
      await producer.close();
    });
  },
  async consume(side) {
    const consumer = new kafka.Consumer({
      clientId: 'audit-trail-bench-platformatic',
      bootstrapBrokers: brokers,
      groupId: side.group,
      sessionTimeout: 30_000,
      maxBytesPerPartition: 1024 * 1024,
      autocommit: false,
    });
    if (!side.done) {
      const stream = await consumer.consume({
        topics: [topic],
        mode: 'committed',
        fallbackMode: 'earliest',
        autocommit: false,
        maxBytesPerPartition: 1024 * 1024,
      });
      for await (const message of stream) {
        await side.take(
          message.partition,
          Number(message.offset),
          message.value,
          () =>
            new Promise<void>((resolve, reject) =>
              message.commit((error) =>
                error === undefined || error === null ? resolve() : reject(error),
              ),
            ),
        );
        if (side.done) break;
      }
      await stream.close();
    }
    await consumer.close();
  },
});
