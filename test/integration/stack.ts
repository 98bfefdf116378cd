/**
 * Access to the local stack started by scripts/stack.ts (npm test starts it
 * before the tests). Every test gets topics of its own, deleted after it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import kafkajs, { type Kafka } from 'kafkajs';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import { S3Store } from '../../consumers/object-store/s3-store.js';
import { readConfigFile } from '../../cli/config.js';
import { silentLogger } from '../../common/logger.js';
import { GroupConsumer } from '../../consumers/runtime/group-consumer.js';
import { KafkaDeadLetters } from '../../consumers/runtime/kafka-dead-letters.js';
import { isDeadLetter, type RecordConsumer } from '../../consumers/runtime/record-source.js';
import type { AuditEventRecord } from '../../schemas/event-record.js';

export const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
export const STACK_ENV = `${ROOT}.stack/env`;
export const MAIN = `${ROOT}dist/cli/main.js`;

export function brokers(): string {
  if (!existsSync(STACK_ENV))
    throw new Error(`the local stack is not running (${STACK_ENV} is missing): npm run stack:up`);
  const brokerList = readConfigFile(STACK_ENV)['KAFKA_BROKERS'];
  if (brokerList === undefined) throw new Error(`${STACK_ENV} has no KAFKA_BROKERS`);
  return brokerList;
}

export function kafkaClient(): Kafka {
  return new kafkajs.Kafka({
    clientId: 'audit-trail-test',
    brokers: brokers().split(','),
    logLevel: kafkajs.logLevel.NOTHING,
  });
}

export interface TestTopics {
  topic: string;
  dlq: string;
}

/** A topic and its dead-letter topic, unique to the test, deleted after it. */
export async function createTopics(
  t: TestContext,
  partitions: number,
  dlqName?: (topic: string) => string,
): Promise<TestTopics> {
  const topic = `it-${randomBytes(5).toString('hex')}`;
  const dlq = dlqName?.(topic) ?? `${topic}.dlq`;
  const admin = kafkaClient().admin();
  await admin.connect();
  await admin.createTopics({
    waitForLeaders: true,
    topics: [
      { topic, numPartitions: partitions, replicationFactor: 1 },
      { topic: dlq, numPartitions: 1, replicationFactor: 1 },
    ],
  });
  await admin.disconnect();
  t.after(async () => {
    const cleanup = kafkaClient().admin();
    await cleanup.connect();
    await cleanup.deleteTopics({ topics: [topic, dlq] }).catch(() => undefined);
    await cleanup.disconnect();
  });
  return { topic, dlq };
}

export interface ConsumedEvent {
  partition: number;
  offset: number;
  key: string | null;
  event: AuditEventRecord;
}

/**
 * A consumer of a GroupConsumer that sends records that do not decode to
 * `<topic>.dlq`, hands the events of each batch to `take` and commits the batch.
 */
export function committingConsumer(
  kafka: Kafka,
  topic: string,
  take: (events: ConsumedEvent[]) => Promise<void> | void,
): RecordConsumer & { close(): Promise<void> } {
  const deadLetters = new KafkaDeadLetters(kafka, `${topic}.dlq`);
  return {
    assigned: () => Promise.resolve(),
    batch: async (records, context) => {
      await deadLetters.send(records.filter(isDeadLetter));
      const events: ConsumedEvent[] = [];
      for (const { partition, offset, key, decoded } of records)
        if ('event' in decoded)
          events.push({
            partition,
            offset,
            key: key?.toString('utf8') ?? null,
            event: decoded.event,
          });
      await take(events);
      return { done: context.lastOffset, taken: context.lastOffset };
    },
    close: () => deadLetters.close(),
  };
}

/**
 * Reads `topic` with a fresh consumer group until `expected` events arrived or
 * `timeoutMs` passed, and returns them in arrival order. Records that do not
 * decode go to `<topic>.dlq`.
 */
export async function consumeEvents(
  topic: string,
  expected: number,
  timeoutMs: number,
): Promise<ConsumedEvent[]> {
  const events: ConsumedEvent[] = [];
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const kafka = kafkaClient();
  const consumer = new GroupConsumer({
    kafka,
    groupId: `it-reader-${randomBytes(4).toString('hex')}`,
    topic,
    logger: silentLogger(),
  });
  const handler = committingConsumer(kafka, topic, (batch) => {
    events.push(...batch);
    if (events.length >= expected) done();
  });
  await consumer.start(handler);
  const timer = setTimeout(done, timeoutMs);
  await finished;
  clearTimeout(timer);
  await consumer.stop();
  await handler.close();
  return events;
}

export interface S3TestSettings {
  endpoint: string;
  region: string;
  bucket: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
}

export function s3Settings(): S3TestSettings {
  const env = readConfigFile(STACK_ENV);
  const need = (name: string): string => {
    const value = env[name];
    if (value === undefined) throw new Error(`${STACK_ENV} has no ${name}: npm run stack:up`);
    return value;
  };
  return {
    endpoint: need('S3_ENDPOINT'),
    region: need('AWS_REGION'),
    bucket: need('S3_BUCKET'),
    credentials: {
      accessKeyId: need('AWS_ACCESS_KEY_ID'),
      secretAccessKey: need('AWS_SECRET_ACCESS_KEY'),
    },
  };
}

/** A bucket of the test's own with an S3Store on it, emptied and removed after the test. */
export async function testBucket(
  t: TestContext,
  extra: Partial<ConstructorParameters<typeof S3Store>[0]> = {},
): Promise<{ bucket: string; store: S3Store }> {
  const s = s3Settings();
  const s3 = new S3Client({
    endpoint: s.endpoint,
    region: s.region,
    forcePathStyle: true,
    credentials: s.credentials,
  });
  const bucket = `it-${randomBytes(5).toString('hex')}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const store = new S3Store({ ...s, bucket, ...extra });
  t.after(async () => {
    for (;;) {
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      if ((page.Contents ?? []).length === 0) break;
      for (const object of page.Contents ?? [])
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: object.Key }));
    }
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
    s3.destroy();
    store.close();
  });
  return { bucket, store };
}

/**
 * Runs the command line with `env`; resolves with its exit code and output. A
 * run longer than `timeoutMs` is killed, so that a hang fails the test instead
 * of stalling the suite.
 */
export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 240_000,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/**
 * kcat (librdkafka) reading `topic` (or one partition of it) from the
 * beginning to its end as a read_committed reader, printing each record with
 * `format` (kcat's -f). latin1 keeps binary values byte for byte.
 */
export function kcatCommitted(
  topic: string,
  format: string,
  options: { partition?: number; encoding?: 'utf8' | 'latin1'; timeoutMs?: number } = {},
): string {
  const { partition, encoding = 'utf8', timeoutMs = 60_000 } = options;
  const read = spawnSync(
    'kcat',
    [
      '-C',
      '-b',
      brokers(),
      '-t',
      topic,
      ...(partition === undefined ? [] : ['-p', String(partition)]),
      '-X',
      'isolation.level=read_committed',
      '-o',
      'beginning',
      '-e',
      '-q',
      '-f',
      format,
    ],
    { encoding, timeout: timeoutMs, maxBuffer: 512 * 1024 * 1024 },
  );
  if (read.status !== 0)
    throw new Error(`kcat -t ${topic} exited ${String(read.status)}: ${read.stderr}`);
  return read.stdout;
}

/** Each record of `topic` as a read_committed reader sees it: key and value (text). */
export function committedRecords(topic: string): { key: string; value: string }[] {
  return kcatCommitted(topic, '%k %s\\n')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => {
      const space = line.indexOf(' ');
      return { key: line.slice(0, space), value: line.slice(space + 1) };
    });
}
