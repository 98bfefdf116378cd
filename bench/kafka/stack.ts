/**
 * What the Kafka figures use of the local stack (.stack/env, handed over by
 * the suite as `ctx.stack`): a kafkajs client, topics and an S3 bucket of the
 * run's own, deleted at the end, and child processes timed from spawn to exit.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import kafkajs, { type Kafka } from 'kafkajs';
import {
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from '@aws-sdk/client-s3';
import type { BenchContext } from '../figure.js';
import type { BenchMessage } from './events.js';

export const MAIN = fileURLToPath(new URL('../../cli/main.js', import.meta.url));
export const TIME = '/usr/bin/time';

/** The stack's settings; a figure that needs the stack only runs when there is one. */
export function stackEnv(ctx: BenchContext): Readonly<Record<string, string>> {
  if (ctx.stack === undefined) throw new Error('the local stack is not running');
  return ctx.stack;
}

export function setting(ctx: BenchContext, name: string): string {
  const value = stackEnv(ctx)[name];
  if (value === undefined || value === '') throw new Error(`.stack/env has no ${name}`);
  return value;
}

export function brokers(ctx: BenchContext): string[] {
  return setting(ctx, 'KAFKA_BROKERS').split(',');
}

export function kafkaClient(ctx: BenchContext): Kafka {
  return new kafkajs.Kafka({
    clientId: 'audit-trail-bench',
    brokers: brokers(ctx),
    logLevel: kafkajs.logLevel.NOTHING,
  });
}

/** A name no other run uses: `bench-<what>-<random>`. */
export function uniqueName(what: string): string {
  return `bench-${what}-${randomBytes(4).toString('hex')}`;
}

/** Topics created by this run, deleted by `deleteTopics`. */
export async function createTopics(
  kafka: Kafka,
  topics: readonly { topic: string; partitions: number }[],
): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({
      waitForLeaders: true,
      topics: topics.map(({ topic, partitions }) => ({
        topic,
        numPartitions: partitions,
        replicationFactor: 1,
      })),
    });
  } finally {
    await admin.disconnect();
  }
}

export async function deleteTopics(kafka: Kafka, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteTopics({ topics: [...topics] });
  } finally {
    await admin.disconnect();
  }
}

/** The archiver's consumer group of a run on `topic`: its own, so that no other member on the broker joins it. */
export function archiverGroup(topic: string): string {
  return `bench-archiver-${topic}`;
}

/** Deletes the consumer groups a figure made; a failure is logged, the figure's results stand. */
export async function deleteGroups(
  ctx: BenchContext,
  kafka: Kafka,
  groups: readonly string[],
): Promise<void> {
  if (groups.length === 0) return;
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.deleteGroups([...groups]);
  } catch (error) {
    ctx.log(`could not delete groups ${groups.join(', ')}: ${(error as Error).message}`);
  } finally {
    await admin.disconnect();
  }
}

/**
 * The project's producer settings on a bare kafkajs producer: idempotent, one
 * request in flight, acks=all, gzip, murmur2; one awaited send per request.
 */
export async function sendBare(
  kafka: Kafka,
  topic: string,
  requests: readonly Pick<BenchMessage, 'key' | 'value' | 'headers'>[][],
  ackTimeoutMs: number,
): Promise<void> {
  const producer = kafka.producer({
    idempotent: true,
    maxInFlightRequests: 1,
    allowAutoTopicCreation: false,
    createPartitioner: kafkajs.Partitioners.DefaultPartitioner,
  });
  await producer.connect();
  try {
    for (const messages of requests)
      await producer.send({
        topic,
        acks: -1,
        timeout: ackTimeoutMs,
        compression: kafkajs.CompressionTypes.GZIP,
        messages,
      });
  } finally {
    await producer.disconnect();
  }
}

/** The sum of the partitions' end offsets: the records on a fresh topic. */
export async function recordsOn(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const offsets = await admin.fetchTopicOffsets(topic);
    return offsets.reduce((sum, partition) => sum + Number(partition.high), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The stack's S3 settings as environment variables of a child process. */
export function s3Env(ctx: BenchContext, bucket: string): Record<string, string> {
  return {
    S3_ENDPOINT: setting(ctx, 'S3_ENDPOINT'),
    S3_BUCKET: bucket,
    AWS_REGION: setting(ctx, 'AWS_REGION'),
    AWS_ACCESS_KEY_ID: setting(ctx, 'AWS_ACCESS_KEY_ID'),
    AWS_SECRET_ACCESS_KEY: setting(ctx, 'AWS_SECRET_ACCESS_KEY'),
  };
}

export function s3Client(env: Record<string, string>): S3Client {
  return new S3Client({
    endpoint: env['S3_ENDPOINT'],
    region: env['AWS_REGION'],
    forcePathStyle: true,
    credentials: {
      accessKeyId: env['AWS_ACCESS_KEY_ID'] ?? '',
      secretAccessKey: env['AWS_SECRET_ACCESS_KEY'] ?? '',
    },
  });
}

export async function createBucket(ctx: BenchContext, bucket: string): Promise<void> {
  const s3 = s3Client(s3Env(ctx, bucket));
  try {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
}

/** The keys under `prefix` (all of them with ''), page by page. */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const object of page.Contents ?? []) if (object.Key !== undefined) keys.push(object.Key);
    token = page.IsTruncated === true ? page.NextContinuationToken : undefined;
  } while (token !== undefined);
  return keys;
}

export async function deleteBucket(ctx: BenchContext, bucket: string): Promise<void> {
  const s3 = s3Client(s3Env(ctx, bucket));
  try {
    for (const key of await listKeys(s3, bucket, ''))
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    await s3.send(new DeleteBucketCommand({ Bucket: bucket }));
  } finally {
    s3.destroy();
  }
}

export interface ChildRun {
  /** From spawn to exit. */
  seconds: number;
  stdout: string;
  /** Peak resident set of the child in KiB, with `peakRss` (from /usr/bin/time). */
  peakKiB: number | undefined;
}

/**
 * Runs `command` to its end, timed from spawn to exit; a non-zero exit, or a
 * run longer than `timeoutMs`, is an error with the end of its stderr. With
 * `peakRss` it runs under `/usr/bin/time -f %M`, which reports the child's
 * peak resident set (the runner's own is never counted).
 */
export async function runChild(
  command: string,
  args: readonly string[],
  options: { env?: NodeJS.ProcessEnv; peakRss?: string; timeoutMs?: number } = {},
): Promise<ChildRun> {
  const [file, argv] =
    options.peakRss === undefined
      ? [command, [...args]]
      : [TIME, ['-f', '%M', '-o', options.peakRss, command, ...args]];
  if (options.peakRss !== undefined && !existsSync(TIME))
    throw new Error(`${TIME} is not installed: the peak RSS of a child cannot be read`);
  const started = process.hrtime.bigint();
  const child = spawn(file, argv, {
    env: options.env ?? process.env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
  const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 600_000);
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(
    (resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (exitCode, exitSignal) => resolve([exitCode, exitSignal]));
    },
  ).finally(() => clearTimeout(timer));
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (code !== 0)
    throw new Error(
      `${command} ${args.join(' ')} ended with ${signal ?? `exit code ${code}`}: ${stderr.trim()}`,
    );
  let peakKiB: number | undefined;
  if (options.peakRss !== undefined) {
    const text = await readFile(options.peakRss, 'utf8');
    peakKiB = Number(/(\d+)\s*$/.exec(text.trim())?.[1] ?? Number.NaN);
    if (!Number.isFinite(peakKiB)) throw new Error(`${TIME} reported no peak RSS: ${text.trim()}`);
  }
  return { seconds, stdout, peakKiB };
}
