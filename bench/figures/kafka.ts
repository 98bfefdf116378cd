/**
 * The Kafka figures, against the local stack (Kafka and S3Proxy on loopback):
 *
 * - produce_vs_kafkajs: the library's producer (AuditTrail with KafkaTransport)
 *   against a bare kafkajs producer with the same settings, in this process;
 * - produce_vs_kcat: `audit-trail produce --from FILE` against `kcat -P`, each
 *   its own process;
 * - archive_vs_bare and rss_archiver_vs_bare: `audit-trail archive --once`
 *   against a bare consumer that writes raw values to S3 (bench/kafka/bare-archiver.ts).
 *
 * Every run gets a topic (or consumer group and key prefix) of its own; what a
 * figure creates is deleted at its end.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { BATCH_DEFAULTS } from '../../consumers/archiver/batch-policy.js';
import { KAFKA_ARCHIVER_DEFAULTS } from '../../consumers/archiver/kafka-archiver.js';
import { createKafka } from '../../kafka/client.js';
import { kafkaSettingsFromEnv } from '../../kafka/settings.js';
import { AuditTrail } from '../../producer/audit-trail.js';
import { KAFKA_TRANSPORT_DEFAULTS, KafkaTransport } from '../../producer/kafka-transport.js';
import type { Figure } from '../figure.js';
import {
  batches,
  kcatDelimiter,
  kcatInput,
  ndjson,
  simulatedEvents,
  SOURCE,
  type BenchEvents,
  type BenchMessage,
} from '../kafka/events.js';
import {
  archiverGroup,
  brokers,
  createBucket,
  createTopics,
  deleteBucket,
  deleteGroups,
  deleteTopics,
  kafkaClient,
  MAIN,
  recordsOn,
  runChild,
  s3Env,
  sendBare,
  setting,
  uniqueName,
} from '../kafka/stack.js';

const PARTITIONS = 6; // AUDIT_TOPIC_PARTITIONS' default: what `topics ensure` creates
const { batchMaxEvents, batchMaxBytes, lingerMs, ackTimeoutMs } = KAFKA_TRANSPORT_DEFAULTS;
const BARE_ARCHIVER = fileURLToPath(new URL('../kafka/bare-archiver.js', import.meta.url));

function seconds(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** A topic of one run: created before the clock starts, checked and deleted after it stops. */
async function withTopic(
  kafka: Kafka,
  expected: number,
  run: (topic: string) => Promise<number>,
): Promise<number> {
  const topic = uniqueName('produce');
  await createTopics(kafka, [{ topic, partitions: PARTITIONS }]);
  try {
    const elapsed = await run(topic);
    const records = await recordsOn(kafka, topic);
    if (records !== expected)
      throw new Error(`${topic} holds ${records} records after the run, not ${expected}`);
    return expected / elapsed;
  } finally {
    await deleteTopics(kafka, [topic]);
  }
}

function produceVsKafkajs(): Figure {
  let kafka: Kafka;
  let data: BenchEvents;
  let requests: BenchMessage[][];
  let count = 0;
  return {
    name: 'produce_vs_kafkajs',
    unit: 'events/s',
    better: 'higher',
    description:
      'Events acknowledged per second, in this process, to a fresh topic of 6 partitions. Ours: AuditTrail.addEvent ' +
      'of simulated events (validation, Avro encoding, spool with fdatasync) through KafkaTransport ' +
      `(idempotent, acks=all, gzip, ${batchMaxEvents.toLocaleString('en-US')} events or 1 MiB a request, one in flight, ${lingerMs} ms linger), ` +
      'yielding every 1,000 events, until close() has every acknowledgement. Baseline: a bare kafkajs producer with ' +
      'the same settings sending the same encoded values, keys and headers in the same batches. ' +
      'Both include connecting; 200,000 events (quick: 20,000).',
    needsStack: true,
    async setup(ctx) {
      count = ctx.size(200_000, 20_000);
      kafka = kafkaClient(ctx);
      data = simulatedEvents(count);
      requests = batches(data.messages, batchMaxEvents, batchMaxBytes);
    },
    async ours(ctx) {
      const productKafka = createKafka(
        kafkaSettingsFromEnv({ KAFKA_BROKERS: brokers(ctx).join(',') }),
      );
      const spoolDir = await mkdtemp(join(ctx.work, 'spool-'));
      try {
        return await withTopic(kafka, count, async (topic) => {
          const started = process.hrtime.bigint();
          const transport = new KafkaTransport({ kafka: productKafka, spoolDir, topic });
          const trail = new AuditTrail({ transport, retainInMemory: false, source: SOURCE });
          for (let i = 0; i < data.events.length; i++) {
            trail.addEvent(data.events[i] as (typeof data.events)[number]);
            if (i % 1000 === 999) await yieldToLoop();
          }
          await trail.close({ timeoutMs: 120_000 });
          return seconds(started);
        });
      } finally {
        await rm(spoolDir, { recursive: true, force: true });
      }
    },
    async baseline() {
      return withTopic(kafka, count, async (topic) => {
        const started = process.hrtime.bigint();
        await sendBare(kafka, topic, requests, ackTimeoutMs);
        return seconds(started);
      });
    },
  };
}

function produceVsKcat(): Figure {
  let kafka: Kafka;
  let count = 0;
  let ndjsonFile = '';
  let kcatFile = '';
  let delimiters = { key: '', message: '' };
  return {
    name: 'produce_vs_kcat',
    unit: 'events/s',
    better: 'higher',
    description:
      'Events acknowledged per second, each side its own process, from spawn to exit, to a fresh topic of 6 partitions. ' +
      'Ours: `audit-trail produce --from FILE.ndjson` (kafka transport: JSON parsing, validation, Avro encoding, ' +
      'spool, KafkaTransport as in produce_vs_kafkajs). Baseline: `kcat -P -l` of a file of the same encoded values ' +
      'and keys (no per-message headers: kcat has none), -X acks=all, enable.idempotence=true, compression.codec=gzip, ' +
      `batch.num.messages=${batchMaxEvents}, batch.size=1048576, linger.ms=${lingerMs}, ` +
      'max.in.flight.requests.per.connection=1, partitioner=murmur2_random. 200,000 events (quick: 20,000).',
    needsStack: true,
    async setup(ctx) {
      count = ctx.size(200_000, 20_000);
      kafka = kafkaClient(ctx);
      const data = simulatedEvents(count);
      ndjsonFile = join(ctx.work, 'events.ndjson');
      await writeFile(ndjsonFile, ndjson(data.records));
      const input = kcatInput(data.messages, () => randomBytes(8));
      kcatFile = join(ctx.work, 'events.kcat');
      await writeFile(kcatFile, input.data);
      delimiters = {
        key: kcatDelimiter(input.keyDelimiter),
        message: kcatDelimiter(input.messageDelimiter),
      };
    },
    async ours(ctx) {
      const spoolDir = await mkdtemp(join(ctx.work, 'spool-'));
      try {
        return await withTopic(kafka, count, async (topic) => {
          const run = await runChild(process.execPath, [MAIN, 'produce', '--from', ndjsonFile], {
            env: {
              PATH: process.env['PATH'] ?? '',
              AUDIT_TRANSPORT: 'kafka',
              KAFKA_BROKERS: brokers(ctx).join(','),
              AUDIT_TOPIC: topic,
              AUDIT_SPOOL_DIR: spoolDir,
              AUDIT_SOURCE: SOURCE,
              AUDIT_LOG_LEVEL: 'warn',
            },
          });
          return run.seconds;
        });
      } finally {
        await rm(spoolDir, { recursive: true, force: true });
      }
    },
    async baseline(ctx) {
      return withTopic(kafka, count, async (topic) => {
        const run = await runChild('kcat', [
          '-P',
          '-b',
          brokers(ctx).join(','),
          '-t',
          topic,
          '-K',
          delimiters.key,
          '-D',
          delimiters.message,
          '-X',
          'acks=all',
          '-X',
          'enable.idempotence=true',
          '-X',
          'compression.codec=gzip',
          '-X',
          `batch.num.messages=${batchMaxEvents}`,
          '-X',
          `batch.size=${batchMaxBytes}`,
          '-X',
          `linger.ms=${lingerMs}`,
          '-X',
          'max.in.flight.requests.per.connection=1',
          '-X',
          'partitioner=murmur2_random',
          '-l',
          kcatFile,
        ]);
        return run.seconds;
      });
    },
  };
}

/**
 * The peak RSS (MiB) of the archive_vs_bare runs of this suite run, warm-up
 * first, for rss_archiver_vs_bare: the same processes, not a second series of
 * runs. Used only when the event counts match; otherwise it runs its own.
 */
const archivePeaks = { count: 0, ours: [] as number[], baseline: [] as number[] };

/** One archiving figure: events/s or peak RSS of `archive --once` against the bare consumer. */
function archiveFigure(measure: 'rate' | 'rss'): Figure {
  let kafka: Kafka;
  let count = 0;
  let requests: BenchMessage[][];
  let bucket = '';
  let runs = 0;
  const groups: string[] = [];

  /**
   * A topic of its own (and its dead-letter topic) filled with the events
   * before the clock starts, so that the archiver's group starts from the
   * beginning on every run; deleted after the run.
   */
  const onFilledTopic = async (
    side: 'ours' | 'baseline',
    run: (topic: string) => Promise<{ seconds: number; stdout: string; peakKiB?: number }>,
  ): Promise<number> => {
    if (measure === 'rss' && archivePeaks.count === count && archivePeaks[side].length > 0)
      return archivePeaks[side].shift() as number;
    const topic = uniqueName('archive');
    await createTopics(kafka, [
      { topic, partitions: PARTITIONS },
      { topic: `${topic}.dlq`, partitions: 1 },
    ]);
    try {
      await sendBare(kafka, topic, requests, ackTimeoutMs);
      const { seconds, stdout, peakKiB } = await run(topic);
      const events = Number(/archived (\d+) events/.exec(stdout)?.[1] ?? Number.NaN);
      if (events !== count)
        throw new Error(`archived ${events} events, not ${count}: ${stdout.trim()}`);
      const peakMiB = (peakKiB as number) / 1024;
      if (measure === 'rss') return peakMiB;
      archivePeaks[side].push(peakMiB);
      return count / seconds;
    } finally {
      await deleteTopics(kafka, [topic, `${topic}.dlq`]);
    }
  };

  return {
    name: measure === 'rate' ? 'archive_vs_bare' : 'rss_archiver_vs_bare',
    unit: measure === 'rate' ? 'events/s' : 'MiB',
    better: measure === 'rate' ? 'higher' : 'lower',
    description:
      (measure === 'rate'
        ? 'Events archived per second, each side its own process, from spawn to exit, '
        : 'Peak RSS (/usr/bin/time %M) of the archiving process (those of the archive_vs_bare runs when both run), ') +
      'from a fresh topic of 6 partitions filled with simulated events before the run, into a bucket of S3Proxy. ' +
      'Ours: `audit-trail archive --once` (a fresh group; Avro container objects with deflate and the hash chain, ' +
      `${BATCH_DEFAULTS.maxEvents.toLocaleString('en-US')} events an object, signed digests). ` +
      'Baseline: a bare kafkajs consumer (a fresh group, the fetch sizes of the archiver) writing the raw values to S3 objects of ' +
      `${BATCH_DEFAULTS.maxEvents.toLocaleString('en-US')} events per partition and committing after each. 200,000 events (quick: 20,000).`,
    needsStack: true,
    async setup(ctx) {
      count = ctx.size(200_000, 20_000);
      kafka = kafkaClient(ctx);
      bucket = uniqueName('archive');
      await createBucket(ctx, bucket);
      requests = batches(simulatedEvents(count).messages, batchMaxEvents, batchMaxBytes);
      if (measure === 'rate') Object.assign(archivePeaks, { count, ours: [], baseline: [] });
    },
    async ours(ctx) {
      return onFilledTopic('ours', (topic) => {
        groups.push(archiverGroup(topic));
        return runChild(process.execPath, [MAIN, 'archive', '--once'], {
          env: {
            PATH: process.env['PATH'] ?? '',
            AUDIT_TRANSPORT: 'kafka',
            KAFKA_BROKERS: brokers(ctx).join(','),
            AUDIT_TOPIC: topic,
            AUDIT_DLQ_TOPIC: `${topic}.dlq`,
            AUDIT_ARCHIVE_STORE: 's3',
            AUDIT_ARCHIVE_PREFIX: `ours-${++runs}`,
            AUDIT_ARCHIVER_GROUP: archiverGroup(topic),
            AUDIT_SIGNING_KEY_FILE: setting(ctx, 'AUDIT_SIGNING_KEY_FILE'),
            AUDIT_LOG_LEVEL: 'warn',
            ...s3Env(ctx, bucket),
          },
          peakRss: join(ctx.work, 'peak-rss'),
        });
      });
    },
    async baseline(ctx) {
      const group = uniqueName('bare');
      return onFilledTopic('baseline', (topic) => {
        groups.push(group);
        return runChild(process.execPath, [BARE_ARCHIVER], {
          env: {
            PATH: process.env['PATH'] ?? '',
            BENCH_BROKERS: brokers(ctx).join(','),
            BENCH_TOPIC: topic,
            BENCH_GROUP: group,
            BENCH_PREFIX: `bare-${++runs}`,
            BENCH_BATCH_EVENTS: String(BATCH_DEFAULTS.maxEvents),
            // not imported there: the bare process loads no module of the archiver
            BENCH_FETCH_MAX_BYTES: String(KAFKA_ARCHIVER_DEFAULTS.fetchMaxBytes),
            BENCH_FETCH_MAX_BYTES_PER_PARTITION: String(
              KAFKA_ARCHIVER_DEFAULTS.fetchMaxBytesPerPartition,
            ),
            ...s3Env(ctx, bucket),
          },
          peakRss: join(ctx.work, 'peak-rss'),
        });
      });
    },
    async teardown(ctx) {
      if (measure === 'rss') Object.assign(archivePeaks, { count: 0, ours: [], baseline: [] });
      await deleteGroups(ctx, kafka, groups.splice(0));
      await deleteBucket(ctx, bucket).catch((error: unknown) =>
        ctx.log(`could not delete bucket ${bucket}: ${(error as Error).message}`),
      );
    },
  };
}

export const figures: Figure[] = [
  produceVsKafkajs(),
  produceVsKcat(),
  archiveFigure('rate'),
  archiveFigure('rss'),
];
