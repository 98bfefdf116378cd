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
import { PartitionObjects } from './objects.js';
import {
  brokers,
  endOffsets,
  loadClient,
  mode,
  ObjectWriter,
  positive,
  produceSettings,
  report,
  required,
  requests,
  topic,
} from './side.js';

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

async function produce(): Promise<void> {
  const { count, requests: batches } = await requests();
  const { maxEvents, maxBytes, lingerMs, ackTimeoutMs } = produceSettings();
  const started = process.hrtime.bigint();
  const producer = kafka.producer({
    kafkaJS: {
      idempotent: true,
      maxInFlightRequests: 1,
      acks: -1,
      compression: KafkaJS.CompressionTypes.GZIP,
      allowAutoTopicCreation: false,
      timeout: ackTimeoutMs,
    },
    'batch.num.messages': maxEvents,
    'batch.size': maxBytes,
    'linger.ms': lingerMs,
  });
  await producer.connect();
  // librdkafka queues and batches by itself; its queue holds 100,000 messages by default.
  const queued: Promise<unknown>[] = [];
  for (const messages of batches) {
    queued.push(producer.send({ topic, messages }));
    if (queued.length >= QUEUED_REQUESTS) await queued.shift();
  }
  await Promise.all(queued);
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
    kafkaJS: {
      groupId: required('BENCH_GROUP'),
      fromBeginning: true,
      autoCommit: false,
      sessionTimeout: 30_000,
    },
    'max.partition.fetch.bytes': 1024 * 1024,
  });
  await consumer.connect();
  await consumer.subscribe({ topics: [topic] });
  await consumer.run({
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
