/**
 * The @confluentinc/kafka-javascript side of the client figures (librdkafka
 * behind a KafkaJS-compatible API), with the client that bench/clients/install.sh
 * built into BENCH_CLIENT_DIR (settings: bench/clients/side.ts).
 * produce: idempotent, acks=all, gzip, one request in flight, librdkafka
 * batching with the project producer's limits (batch.num.messages,
 * batch.size, linger.ms), partitioner murmur2_random (the compatible API's
 * only one, that of Java and kafkajs); up to 16 requests (32,000 events) are
 * handed over before the oldest one's acknowledgements are awaited, as
 * librdkafka queues and batches by itself. consume: eachBatch (its default batches of at most 32
 * messages), from the beginning, no auto-commit, 1 MiB per partition fetch,
 * commitOffsets after each object.
 */
import { brokers, loadClient, runSide, topic } from './side.js';

/** What the side uses of the KafkaJS-compatible API of @confluentinc/kafka-javascript. */
interface CompatBatch {
  partition: number;
  messages: { offset: string; value: Buffer | null }[];
}
interface CompatKafka {
  producer(config: Record<string, unknown>): {
    connect(): Promise<void>;
    send(record: { topic: string; messages: Record<string, unknown>[] }): Promise<unknown>;
    disconnect(): Promise<void>;
  };
  consumer(config: Record<string, unknown>): {
    connect(): Promise<void>;
    subscribe(options: { topics: string[] }): Promise<void>;
    run(options: {
      eachBatch(payload: { batch: CompatBatch; heartbeat(): Promise<void> }): Promise<void>;
    }): Promise<void>;
    commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
    disconnect(): Promise<void>;
  };
}
interface ConfluentModule {
  KafkaJS: {
    Kafka: new (config: Record<string, unknown>) => CompatKafka;
    CompressionTypes: { GZIP: unknown };
    logLevel: { NOTHING: unknown };
  };
  librdkafkaVersion: string;
}

const NAME = '@confluentinc/kafka-javascript';
/** Requests handed to librdkafka before the oldest one's acknowledgements are awaited. */
const QUEUED_REQUESTS = 16;
const loaded = await loadClient<ConfluentModule | { default: ConfluentModule }>(NAME);
const module = 'default' in loaded.module ? loaded.module.default : loaded.module;
const { KafkaJS } = module;
const client = `${NAME} ${loaded.version} (librdkafka ${module.librdkafkaVersion})`;
const kafka = new KafkaJS.Kafka({
  kafkaJS: { clientId: 'audit-trail-bench-confluent', brokers, logLevel: KafkaJS.logLevel.NOTHING },
});

await runSide(client, {
  async produce({ requests, settings, timed }) {
    await timed(async () => {
      const producer = kafka.producer({
        kafkaJS: {
          idempotent: true,
          maxInFlightRequests: 1,
          acks: -1,
          compression: KafkaJS.CompressionTypes.GZIP,
          allowAutoTopicCreation: false,
          timeout: settings.ackTimeoutMs,
        },
        'batch.num.messages': settings.maxEvents,
        'batch.size': settings.maxBytes,
        'linger.ms': settings.lingerMs,
      });
      await producer.connect();
      // librdkafka queues and batches by itself; its queue holds 100,000 messages by default.
      const queued: Promise<unknown>[] = [];
      for (const messages of requests) {
        queued.push(producer.send({ topic, messages }));
        if (queued.length >= QUEUED_REQUESTS) await queued.shift();
      }
      await Promise.all(queued);
      await producer.disconnect();
    });
  },
  async consume(side) {
    const consumer = kafka.consumer({
      kafkaJS: {
        groupId: side.group,
        fromBeginning: true,
        autoCommit: false,
        sessionTimeout: 30_000,
      },
      'max.partition.fetch.bytes': 1024 * 1024,
    });
    await consumer.connect();
    await consumer.subscribe({ topics: [topic] });
    await consumer.run({ eachBatch: side.eachBatch(consumer) });
    await side.finished;
    await consumer.disconnect();
  },
});
