/**
 * Other Kafka clients than the project's kafkajs, measured in the bench only,
 * against the bare kafkajs producer and consumer, against the local stack:
 *
 * - produce_<client>_vs_kafkajs: events/s acknowledged by a bare producer of
 *   the client sending the bytes, keys and headers of the project's producer;
 * - consume_<client>_vs_kafkajs: events/s of a bare consumer group of the
 *   client writing the raw values to S3 objects and committing after each.
 *
 * Each side is its own process (bench/clients/*-side.ts) so that its Node.js
 * and its modules are its own; it times itself from before connecting to its
 * last acknowledgement or commit and prints a report (bench/clients/wire.ts).
 * The clients are installed on first use by bench/clients/install.sh into
 * .cache/bench-clients/, never into the project's dependencies; when that
 * fails, the figure is not measured, with the reason.
 */
import { spawnSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Kafka } from 'kafkajs';
import { BATCH_DEFAULTS } from '../../consumers/archiver/batch-policy.js';
import { KAFKA_TRANSPORT_DEFAULTS } from '../../producer/kafka-transport.js';
import { encodeMessages, parseSideReport, type SideReport } from '../clients/wire.js';
import type { BenchContext, Figure } from '../figure.js';
import { simulatedEvents } from '../kafka/events.js';
import {
  brokers,
  createBucket,
  createTopics,
  deleteBucket,
  deleteGroups,
  deleteTopics,
  kafkaClient,
  recordsOn,
  runChild,
  s3Env,
  uniqueName,
} from '../kafka/stack.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const PARTITIONS = 6; // as the Kafka figures: what `topics ensure` creates
const OBJECT_EVENTS = BATCH_DEFAULTS.maxEvents;
const { batchMaxEvents, batchMaxBytes, lingerMs, ackTimeoutMs } = KAFKA_TRANSPORT_DEFAULTS;

interface Client {
  /** As in the figure names and bench/clients/install.sh. */
  name: 'platformatic' | 'confluent';
  /** The package and the version install.sh pins, checked against each side's report. */
  package: string;
  version: string;
  /** Which Node.js runs the side, and how it is built, for the description. */
  runtime: string;
  produce: string;
  consume: string;
}

const CLIENTS: Client[] = [
  {
    name: 'platformatic',
    package: '@platformatic/kafka',
    version: '2.12.1',
    runtime: 'pure JavaScript, on the Node.js 24 of scripts/node-lts.sh (it needs Node.js >= 22)',
    produce:
      'a Producer, idempotent (one request in flight), acks=all, gzip, the murmur2 partitioner of kafkajs ' +
      '(compatibilityPartitioner), one awaited send() per request of the project producer',
    consume:
      'a Consumer stream (mode committed, falling back to earliest; 1 MiB per partition fetch; no autocommit), ' +
      "each object's last message committed after its put",
  },
  {
    name: 'confluent',
    package: '@confluentinc/kafka-javascript',
    version: '1.10.1',
    runtime:
      'librdkafka 2.15.1 built from the npm tarball against the system libraries (CKJS_LINKING=dynamic), on Node.js 20',
    produce:
      'its KafkaJS-compatible producer, idempotent, acks=all, gzip, librdkafka batching with ' +
      `batch.num.messages=${batchMaxEvents}, batch.size=${batchMaxBytes}, linger.ms=${lingerMs}, ` +
      'max.in.flight=1, partitioner murmur2_random; up to 16 requests of the project producer handed over before the oldest is awaited',
    consume:
      'its KafkaJS-compatible consumer (eachBatch of its default 32 messages at most, fromBeginning, autoCommit off, ' +
      'max.partition.fetch.bytes 1 MiB), ' +
      'commitOffsets after each object',
  },
];

const SIDES = fileURLToPath(new URL('../clients/', import.meta.url));
const INSTALL = join(ROOT, 'bench', 'clients', 'install.sh');
const NODE_LTS = join(ROOT, 'scripts', 'node-lts.sh');

/** Where a client is installed and which Node.js runs its side, or why it cannot be. */
interface Runtime {
  node: string;
  clientDir: string | undefined;
}

function runScript(script: string, args: string[]): { path: string } | { reason: string } {
  const run = spawnSync(script, args, { cwd: ROOT, encoding: 'utf8', timeout: 2_400_000 });
  if (run.error !== undefined) return { reason: `${script}: ${run.error.message}` };
  if (run.status !== 0)
    return {
      reason: (run.stderr ?? '').trim().split('\n').slice(-1)[0] ?? `exit code ${run.status}`,
    };
  return { path: run.stdout.trim().split('\n').slice(-1)[0] ?? '' };
}

/** Installs the client (once) and finds its Node.js; a reason when it cannot be measured. */
function prepare(client: Client): Runtime | { reason: string } {
  const installed = runScript(INSTALL, [client.name]);
  if ('reason' in installed)
    return {
      reason: `${client.package} ${client.version} could not be installed: ${installed.reason}`,
    };
  if (client.name !== 'platformatic') return { node: process.execPath, clientDir: installed.path };
  const node = runScript(NODE_LTS, []);
  if ('reason' in node) return { reason: `no Node.js 24 for ${client.package}: ${node.reason}` };
  return { node: node.path, clientDir: installed.path };
}

/** A side to run: its script (`<name>-side.js`), its Node.js and client, and the client its report must name. */
interface Side {
  name: 'kafkajs' | Client['name'];
  runtime: Runtime;
  client: string;
}

const KAFKAJS: Side = {
  name: 'kafkajs',
  runtime: { node: process.execPath, clientDir: undefined },
  client: 'kafkajs',
};

/** Runs one side to its end and returns its report, checked against the expected client and count. */
async function runSide(
  ctx: BenchContext,
  side: Side,
  env: Record<string, string>,
  events: number,
): Promise<SideReport> {
  const { runtime } = side;
  const run = await runChild(runtime.node, [join(SIDES, `${side.name}-side.js`)], {
    env: {
      PATH: process.env['PATH'] ?? '',
      BENCH_BROKERS: brokers(ctx).join(','),
      ...(runtime.clientDir === undefined ? {} : { BENCH_CLIENT_DIR: runtime.clientDir }),
      ...env,
    },
  });
  const report = parseSideReport(run.stdout);
  if (!report.client.startsWith(side.client))
    throw new Error(`the ${side.name} side ran ${report.client}, not ${side.client}`);
  if (report.events !== events)
    throw new Error(`the ${side.name} side reports ${report.events} events, not ${events}`);
  return report;
}

function produceEnv(topic: string, messages: string): Record<string, string> {
  return {
    BENCH_MODE: 'produce',
    BENCH_TOPIC: topic,
    BENCH_MESSAGES: messages,
    BENCH_BATCH_EVENTS: String(batchMaxEvents),
    BENCH_BATCH_BYTES: String(batchMaxBytes),
    BENCH_LINGER_MS: String(lingerMs),
    BENCH_ACK_TIMEOUT_MS: String(ackTimeoutMs),
  };
}

const SIZE =
  'Both sides: 200,000 simulated events (quick: 20,000), a fresh topic of 6 partitions, the same broker.';

/** What a run of a client figure has: the events, written once for the sides, and a Kafka client. */
interface Run {
  kafka: Kafka;
  count: number;
  /** The file of the messages the produce sides send (bench/clients/wire.ts). */
  messages: string;
}

/**
 * A figure of `client` against kafkajs: the client installed when the figure
 * is selected, the events written before the runs, one measurement a run of
 * `measure` on a side (the client's, or kafkajs's) on a fresh topic of its own.
 */
function clientFigure(
  client: Client,
  kind: 'produce' | 'consume',
  parts: {
    description: string;
    measure: (ctx: BenchContext, run: Run, side: Side, topic: string) => Promise<number>;
    /** After the events are written, before the runs. */
    setup?: (ctx: BenchContext, run: Run) => Promise<void>;
    teardown?: (ctx: BenchContext, run: Run) => Promise<void>;
  },
): Figure {
  const { description, measure } = parts;
  let run: Run | undefined;
  let ours: Side;
  const measureOn = async (ctx: BenchContext, side: Side): Promise<number> => {
    if (run === undefined) throw new Error('the figure was not set up');
    const topic = uniqueName(kind);
    await createTopics(run.kafka, [{ topic, partitions: PARTITIONS }]);
    try {
      return await measure(ctx, run, side, topic);
    } finally {
      await deleteTopics(run.kafka, [topic]);
    }
  };
  return {
    name: `${kind}_${client.name}_vs_kafkajs`,
    unit: 'events/s',
    better: 'higher',
    description,
    needsStack: true,
    unavailable() {
      const prepared = prepare(client);
      if ('reason' in prepared) return Promise.resolve(prepared.reason);
      ours = {
        name: client.name,
        runtime: prepared,
        client: `${client.package} ${client.version}`,
      };
      return Promise.resolve(undefined);
    },
    async setup(ctx) {
      const count = ctx.size(200_000, 20_000);
      const messages = join(ctx.work, 'messages.bin');
      await writeFile(messages, encodeMessages(simulatedEvents(count).messages));
      run = { kafka: kafkaClient(ctx), count, messages };
      await parts.setup?.(ctx, run);
    },
    ours: (ctx) => measureOn(ctx, ours),
    baseline: (ctx) => measureOn(ctx, KAFKAJS),
    async teardown(ctx) {
      if (run !== undefined) await parts.teardown?.(ctx, run);
    },
  };
}

function produceFigure(client: Client): Figure {
  return clientFigure(client, 'produce', {
    description:
      `Events acknowledged per second, each side its own process timed by itself from before connecting to its last ` +
      `acknowledgement, sending the encoded values, keys and headers of the project's producer. ` +
      `Ours: ${client.package} ${client.version} (${client.runtime}): ${client.produce}. ` +
      'Baseline: the bare kafkajs producer of produce_vs_kafkajs (idempotent, one request in flight, acks=all, gzip, ' +
      `murmur2, one awaited send per request of ${batchMaxEvents.toLocaleString('en-US')} events or 1 MiB). ${SIZE}`,
    async measure(ctx, { kafka, count, messages }, side, topic) {
      const report = await runSide(ctx, side, produceEnv(topic, messages), count);
      const records = await recordsOn(kafka, topic);
      if (records !== count)
        throw new Error(`${topic} holds ${records} records after the run, not ${count}`);
      return report.events / report.seconds;
    },
  });
}

function consumeFigure(client: Client): Figure {
  let runs = 0;
  const groups: string[] = [];
  let bucket = '';
  return clientFigure(client, 'consume', {
    description:
      'Events per second of a bare consumer group reading a topic filled before the run and writing the raw values ' +
      `to S3Proxy in objects of ${OBJECT_EVENTS.toLocaleString('en-US')} events per partition (as bench/kafka/bare-archiver.ts), ` +
      'committing after each object; each side its own process timed by itself from before connecting to its last commit. ' +
      `Ours: ${client.package} ${client.version} (${client.runtime}): ${client.consume}. ` +
      'Baseline: the bare kafkajs consumer of archive_vs_bare (eachBatch, one partition at a time, 1 MiB per partition fetch, ' +
      `commitOffsets after each object). ${SIZE}`,
    async setup(ctx) {
      bucket = uniqueName('consume');
      await createBucket(ctx, bucket);
    },
    /** The topic filled by the kafkajs side before the clock starts, read by a fresh group. */
    async measure(ctx, { count, messages }, side, topic) {
      await runSide(ctx, KAFKAJS, produceEnv(topic, messages), count);
      const group = uniqueName(`${side.name}-group`);
      groups.push(group);
      const env = {
        BENCH_MODE: 'consume',
        BENCH_TOPIC: topic,
        BENCH_GROUP: group,
        BENCH_PREFIX: `${side.name}-${++runs}`,
        BENCH_OBJECT_EVENTS: String(OBJECT_EVENTS),
        ...s3Env(ctx, bucket),
      };
      const report = await runSide(ctx, side, env, count);
      return report.events / report.seconds;
    },
    async teardown(ctx, { kafka }) {
      await deleteGroups(ctx, kafka, groups.splice(0));
      if (bucket !== '')
        await deleteBucket(ctx, bucket).catch((error: unknown) =>
          ctx.log(`could not delete bucket ${bucket}: ${(error as Error).message}`),
        );
    },
  });
}

export const figures: Figure[] = CLIENTS.flatMap((client) => [
  produceFigure(client),
  consumeFigure(client),
]);
