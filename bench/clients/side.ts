/**
 * What every client's side (bench/clients/*-side.ts, each its own process)
 * shares: its settings from the environment, the messages to produce, the
 * S3 objects of the bare consumer (each written, then committed), the end
 * offsets to stop at, the clock and the report. A side gives `runSide` its
 * produce and consume loops and nothing else.
 *
 *   BENCH_MODE=produce|consume BENCH_BROKERS=... BENCH_TOPIC=...
 *   produce: BENCH_MESSAGES=FILE BENCH_BATCH_EVENTS BENCH_BATCH_BYTES BENCH_LINGER_MS BENCH_ACK_TIMEOUT_MS
 *   consume: BENCH_GROUP BENCH_PREFIX BENCH_OBJECT_EVENTS S3_ENDPOINT S3_BUCKET AWS_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
 *   BENCH_CLIENT_DIR: where bench/clients/install.sh put the client (not for kafkajs)
 */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import kafkajs from 'kafkajs';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { batches } from '../kafka/events.js';
import { s3Client } from '../kafka/stack.js';
import { objectBody, objectKey, type ObjectToWrite, PartitionObjects } from './objects.js';
import { decodeMessages, formatSideReport, type WireMessage } from './wire.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

function positive(name: string): number {
  const value = Number(required(name));
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

const mode = required('BENCH_MODE');
if (mode !== 'produce' && mode !== 'consume')
  throw new Error(`BENCH_MODE must be produce or consume, got ${mode}`);
export const brokers = required('BENCH_BROKERS').split(',');
export const topic = required('BENCH_TOPIC');

/** The produce settings of the project's producer, as the figure hands them over. */
export interface ProduceSettings {
  maxEvents: number;
  maxBytes: number;
  lingerMs: number;
  ackTimeoutMs: number;
}

/** What the produce loop of a side is given. */
export interface ProduceWork {
  /** The messages to produce, cut into requests as the project's producer cuts them. */
  requests: WireMessage[][];
  settings: ProduceSettings;
  /** Runs `send` on the clock: what a side does before (preparing its messages) is not timed. */
  timed: (send: () => Promise<void>) => Promise<void>;
}

async function produce(client: string, loop: (work: ProduceWork) => Promise<void>): Promise<void> {
  const messages = decodeMessages(await readFile(required('BENCH_MESSAGES')));
  const settings: ProduceSettings = {
    maxEvents: positive('BENCH_BATCH_EVENTS'),
    maxBytes: positive('BENCH_BATCH_BYTES'),
    lingerMs: positive('BENCH_LINGER_MS'),
    ackTimeoutMs: positive('BENCH_ACK_TIMEOUT_MS'),
  };
  const requests = batches(messages, settings.maxEvents, settings.maxBytes);
  let started: bigint | undefined;
  await loop({
    requests,
    settings,
    async timed(send) {
      started = process.hrtime.bigint();
      await send();
    },
  });
  if (started === undefined) throw new Error('the produce side sent nothing on the clock');
  report(messages.length, started, 0, client);
}

/** The client package from BENCH_CLIENT_DIR: its module (CommonJS or ESM) and its version. */
export async function loadClient<T>(name: string): Promise<{ module: T; version: string }> {
  const dir = required('BENCH_CLIENT_DIR');
  const require = createRequire(join(dir, 'package.json'));
  // Read from the folder: a package's exports may not include its package.json.
  const manifest = JSON.parse(
    await readFile(join(dir, 'node_modules', name, 'package.json'), 'utf8'),
  ) as { version: string };
  const module = (await import(pathToFileURL(require.resolve(name)).href)) as T;
  return { module, version: manifest.version };
}

/** Each partition's end offset now (the records to consume), read with kafkajs's admin. */
async function endOffsets(): Promise<Map<number, number>> {
  const kafka = new kafkajs.Kafka({
    clientId: 'audit-trail-bench-ends',
    brokers,
    logLevel: kafkajs.logLevel.NOTHING,
  });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return new Map(offsets.map((partition) => [partition.partition, Number(partition.high)]));
  } finally {
    await admin.disconnect();
  }
}

/** The commit of a KafkaJS-shaped consumer (kafkajs, and the compatible API of @confluentinc/kafka-javascript). */
interface CommitsOffsets {
  commitOffsets(offsets: { topic: string; partition: number; offset: string }[]): Promise<void>;
}

/** A batch of a KafkaJS-shaped consumer's eachBatch. */
interface EachBatchPayload {
  batch: { partition: number; messages: { offset: string; value: Buffer | null }[] };
  heartbeat(): Promise<void>;
}

/**
 * The consume side's objects: the records up to the end offsets at start, cut
 * per partition, each object written to S3 (raw values, as
 * bench/kafka/bare-archiver.ts) and then committed.
 */
export class ConsumeSide {
  readonly group = required('BENCH_GROUP');
  readonly #s3: S3Client = s3Client(process.env as Record<string, string>);
  readonly #bucket = required('S3_BUCKET');
  readonly #prefix = required('BENCH_PREFIX');
  readonly #objects: PartitionObjects;
  #events = 0;
  #written = 0;
  readonly #started: bigint;
  #finish!: () => void;
  /** Resolves when every record up to the end offsets is in an object written and committed. */
  readonly finished = new Promise<void>((resolve) => (this.#finish = resolve));

  private constructor(ends: ReadonlyMap<number, number>) {
    this.#objects = new PartitionObjects(ends, positive('BENCH_OBJECT_EVENTS'));
    this.#started = process.hrtime.bigint();
    if (this.done) this.#finish();
  }

  static async start(): Promise<ConsumeSide> {
    return new ConsumeSide(await endOffsets());
  }

  get done(): boolean {
    return this.#objects.done;
  }

  /** A record: when it completes an object, the object is written to S3, then `commit`ted. */
  async take(
    partition: number,
    offset: number,
    value: Buffer,
    commit: (object: ObjectToWrite) => Promise<void>,
  ): Promise<void> {
    const object = this.#objects.add(partition, offset, value);
    if (object === undefined) return;
    const body = objectBody(object.values);
    await this.#s3.send(
      new PutObjectCommand({
        Bucket: this.#bucket,
        Key: objectKey(this.#prefix, topic, object),
        Body: body,
        ContentLength: body.length,
      }),
    );
    this.#events += object.values.length;
    this.#written++;
    await commit(object);
    if (this.done) this.#finish();
  }

  /** The eachBatch of a KafkaJS-shaped consumer: each object committed with `commitOffsets`. */
  eachBatch(consumer: CommitsOffsets): (payload: EachBatchPayload) => Promise<void> {
    const commit = (object: ObjectToWrite): Promise<void> =>
      consumer.commitOffsets([{ topic, partition: object.partition, offset: String(object.next) }]);
    return async (payload) => {
      const { batch } = payload;
      for (const message of batch.messages)
        await this.take(
          batch.partition,
          Number(message.offset),
          message.value ?? Buffer.alloc(0),
          commit,
        );
      await payload.heartbeat();
    };
  }

  report(client: string): void {
    report(this.#events, this.#started, this.#written, client);
    this.#s3.destroy();
  }
}

/** Runs the side BENCH_MODE names, with the client's produce or consume loop, and prints its report. */
export async function runSide(
  client: string,
  loops: {
    produce: (work: ProduceWork) => Promise<void>;
    /** Consumes from the beginning (a fresh group) until `side.finished`, each record given to `side.take`. */
    consume: (side: ConsumeSide) => Promise<void>;
  },
): Promise<void> {
  if (mode === 'produce') return produce(client, loops.produce);
  const side = await ConsumeSide.start();
  await loops.consume(side);
  side.report(client);
}

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

function report(events: number, started: bigint, objects: number, client: string): void {
  process.stdout.write(
    formatSideReport({ events, seconds: seconds(started), objects, client, node: process.version }),
  );
}
