/**
 * What every client's side (bench/clients/*-side.ts, each its own process)
 * shares: its settings from the environment, the messages to produce, the
 * S3 objects of the bare consumer, the end offsets to stop at, and the report.
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
import { objectBody, objectKey, type ObjectToWrite } from './objects.js';
import { decodeMessages, formatSideReport, type WireMessage } from './wire.js';

export function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

export function positive(name: string): number {
  const value = Number(required(name));
  if (!Number.isInteger(value) || value < 1) throw new Error(`${name} must be a positive integer`);
  return value;
}

export const mode = required('BENCH_MODE');
if (mode !== 'produce' && mode !== 'consume')
  throw new Error(`BENCH_MODE must be produce or consume, got ${mode}`);
export const brokers = required('BENCH_BROKERS').split(',');
export const topic = required('BENCH_TOPIC');

/** The produce settings of the project's producer, as the figure hands them over. */
export function produceSettings(): {
  maxEvents: number;
  maxBytes: number;
  lingerMs: number;
  ackTimeoutMs: number;
} {
  return {
    maxEvents: positive('BENCH_BATCH_EVENTS'),
    maxBytes: positive('BENCH_BATCH_BYTES'),
    lingerMs: positive('BENCH_LINGER_MS'),
    ackTimeoutMs: positive('BENCH_ACK_TIMEOUT_MS'),
  };
}

/** The messages to produce, cut into requests as the project's producer cuts them. */
export async function requests(): Promise<{ count: number; requests: WireMessage[][] }> {
  const messages = decodeMessages(await readFile(required('BENCH_MESSAGES')));
  const { maxEvents, maxBytes } = produceSettings();
  return { count: messages.length, requests: batches(messages, maxEvents, maxBytes) };
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
export async function endOffsets(): Promise<Map<number, number>> {
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

/** Writes the consume side's objects to S3 (raw values, as bench/kafka/bare-archiver.ts). */
export class ObjectWriter {
  readonly s3: S3Client = s3Client(process.env as Record<string, string>);
  readonly bucket = required('S3_BUCKET');
  readonly prefix = required('BENCH_PREFIX');
  events = 0;
  objects = 0;

  async write(object: ObjectToWrite): Promise<void> {
    const body = objectBody(object.values);
    await this.s3.send(
      new PutObjectCommand({
        Bucket: this.bucket,
        Key: objectKey(this.prefix, topic, object),
        Body: body,
        ContentLength: body.length,
      }),
    );
    this.events += object.values.length;
    this.objects++;
  }

  close(): void {
    this.s3.destroy();
  }
}

export function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

export function report(events: number, started: bigint, objects: number, client: string): void {
  process.stdout.write(
    formatSideReport({ events, seconds: seconds(started), objects, client, node: process.version }),
  );
}
