/**
 * archive_under_load: one long-running `audit-trail archive` member archives
 * what 4 `audit-trail produce --from FILE` processes publish at the same time
 * into a fresh topic of 6 partitions. Both sides come from the same run:
 *
 * - ours: events archived (committed by the archiver's group, which it does
 *   only once their object is written) per second while the producers run;
 * - baseline: events acknowledged per second by the 4 producers together.
 *
 * Each run also reports the lag when the producers finished (% of the events
 * not yet archived), the seconds the archiver needed after them to archive
 * everything, and the archiver's peak RSS (VmHWM). It checks that the archive
 * holds every event once and deletes what it created.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kafka } from 'kafkajs';
import type { BenchContext, Figure, PairedRun } from '../figure.js';
import { ndjson, simulatedEvents, SOURCE } from '../kafka/events.js';
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
  runChild,
  s3Env,
  setting,
  uniqueName,
} from '../kafka/stack.js';

const PARTITIONS = 6;
const PRODUCERS = 4;
/** Events generated at a time (the full size does not fit in memory at once). */
const CHUNK = 100_000;
/** An open batch is written after this long: the end of the load is archived without a minute's wait. */
const BATCH_MAX_AGE_MS = 1000;

function secondsSince(started: bigint): number {
  return Number(process.hrtime.bigint() - started) / 1e9;
}

/** The peak resident set of a running process, MiB (VmHWM); 0 once it is gone. */
async function peakRssMiB(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
  const kib = Number(/VmHWM:\s+(\d+)\s+kB/.exec(status)?.[1] ?? 0);
  return kib / 1024;
}

/** Events the archiver's group has committed on `topic`: archived, since it commits only written objects. */
async function committed(kafka: Kafka, topic: string): Promise<number> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const [offsets] = await admin.fetchOffsets({ groupId: archiverGroup(topic), topics: [topic] });
    return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
  } finally {
    await admin.disconnect();
  }
}

/** The events of a run: `count` in all, one file per producer. */
interface Load {
  count: number;
  files: string[];
}

/** `count` simulated events in `files` files `<name>-<n>.ndjson` of distinct events, written chunk by chunk. */
async function writeEventFiles(
  work: string,
  name: string,
  count: number,
  files: number,
): Promise<Load> {
  const paths: string[] = [];
  const ids = new Set<string>();
  for (let f = 0; f < files; f++) {
    const path = join(work, `${name}-${f}.ndjson`);
    await writeFile(path, '');
    const perFile = Math.floor(count / files) + (f < count % files ? 1 : 0);
    for (let done = 0, chunk = 0; done < perFile; done += CHUNK, chunk++) {
      const { records } = simulatedEvents(Math.min(CHUNK, perFile - done), 1000 + f * 1000 + chunk);
      for (const record of records) ids.add(record.id);
      await writeFile(path, ndjson(records), { flag: 'a' });
    }
    paths.push(path);
  }
  if (ids.size !== count)
    throw new Error(`the load files hold ${ids.size} distinct events, not ${count}`);
  return { count, files: paths };
}

function archiveUnderLoad(): Figure {
  let kafka: Kafka;
  /** The measured runs' events, and the warm-up's (a tenth as many). */
  let load: Load = { count: 0, files: [] };
  let warm: Load = { count: 0, files: [] };
  let bucket = '';
  let runs = 0;

  async function run(ctx: BenchContext, { count, files }: Load): Promise<PairedRun> {
    const topic = uniqueName('load');
    const dlq = `${topic}.dlq`;
    await createTopics(kafka, [
      { topic, partitions: PARTITIONS },
      { topic: dlq, partitions: 1 },
    ]);
    const kafkaEnv = {
      PATH: process.env['PATH'] ?? '',
      AUDIT_TRANSPORT: 'kafka',
      KAFKA_BROKERS: brokers(ctx).join(','),
      AUDIT_TOPIC: topic,
      AUDIT_LOG_LEVEL: 'warn',
    };
    const spools = files.map((_, p) => join(ctx.work, `load-spool-${++runs}-${p}`));
    let archiver: ChildProcess | undefined;
    try {
      let output = '';
      archiver = spawn(process.execPath, [MAIN, 'archive'], {
        env: {
          ...kafkaEnv,
          AUDIT_DLQ_TOPIC: dlq,
          AUDIT_ARCHIVE_STORE: 's3',
          AUDIT_ARCHIVE_PREFIX: `load-${runs}`,
          AUDIT_ARCHIVER_GROUP: archiverGroup(topic),
          AUDIT_BATCH_MAX_AGE_MS: String(BATCH_MAX_AGE_MS),
          AUDIT_SIGNING_KEY_FILE: setting(ctx, 'AUDIT_SIGNING_KEY_FILE'),
          ...s3Env(ctx, bucket),
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      archiver.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      archiver.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
      const exited = once(archiver, 'exit');
      const pid = archiver.pid as number;
      let peak = 0;
      const sample = async (): Promise<number> => (peak = Math.max(peak, await peakRssMiB(pid)));

      const started = process.hrtime.bigint();
      const producing = Promise.all(
        files.map((file, p) =>
          runChild(process.execPath, [MAIN, 'produce', '--from', file], {
            env: { ...kafkaEnv, AUDIT_SPOOL_DIR: spools[p], AUDIT_SOURCE: SOURCE },
          }),
        ),
      );
      let producersDone = false;
      void producing.then(
        () => (producersDone = true),
        () => (producersDone = true),
      );
      while (!producersDone) {
        await Promise.race([producing, sleep(500)]).catch(() => undefined);
        await sample();
      }
      await producing; // a producer that failed fails the run
      const loadSeconds = secondsSince(started);
      const archivedDuringLoad = await committed(kafka, topic);
      let archived = archivedDuringLoad;
      const drainStarted = process.hrtime.bigint();
      while (archived < count) {
        if (archiver.exitCode !== null)
          throw new Error(`the archiver exited during the run: ${output.trim()}`);
        if (secondsSince(drainStarted) > 600)
          throw new Error(
            `the archiver had archived ${archived} of ${count} events 600 s after the load`,
          );
        await sleep(250);
        await sample();
        archived = await committed(kafka, topic);
      }
      const drainSeconds = secondsSince(drainStarted);
      await sample();
      archiver.kill('SIGTERM');
      await exited;
      const events = Number(/archived (\d+) events/.exec(output)?.[1] ?? Number.NaN);
      const duplicates = Number(/\((\d+) duplicates dropped/.exec(output)?.[1] ?? Number.NaN);
      if (events !== count || duplicates !== 0 || archived !== count)
        throw new Error(
          `the archive holds ${events} events (${duplicates} duplicates dropped, ${archived} committed), not ${count} once: ${output.trim()}`,
        );
      const lagPercent = (100 * (count - archivedDuringLoad)) / count;
      return {
        ours: archivedDuringLoad / loadSeconds,
        baseline: count / loadSeconds,
        note:
          `lag at the end of the producers ${lagPercent.toFixed(1)}%, drained ${drainSeconds.toFixed(1)} s later, ` +
          `archiver peak RSS ${peak.toFixed(0)} MiB`,
      };
    } finally {
      if (archiver !== undefined && archiver.exitCode === null) archiver.kill('SIGKILL');
      await deleteTopics(kafka, [topic, dlq]);
      await deleteGroups(ctx, kafka, [archiverGroup(topic)]);
      for (const spool of spools) await rm(spool, { recursive: true, force: true });
    }
  }

  return {
    name: 'archive_under_load',
    unit: 'events/s',
    better: 'higher',
    description:
      'One long-running `audit-trail archive` member (S3Proxy, deflate, signed digests, ' +
      `AUDIT_BATCH_MAX_AGE_MS=${BATCH_MAX_AGE_MS}, other settings default) while ${PRODUCERS} \`audit-trail produce --from FILE\` ` +
      `processes publish distinct simulated events into a fresh topic of ${PARTITIONS} partitions, in the same run. ` +
      'Ours: events archived (committed by the group after their object is written) per second until the last producer ' +
      'ended. Baseline: events acknowledged per second by the producers together. 2,000,000 events (quick: 200,000; ' +
      'the warm-up: a run of a tenth as many); each run checks that the archive holds every event once.',
    needsStack: true,
    rounds: { quick: 3, full: 3 },
    async setup(ctx) {
      const count = ctx.size(2_000_000, 200_000);
      kafka = kafkaClient(ctx);
      bucket = uniqueName('load');
      await createBucket(ctx, bucket);
      load = await writeEventFiles(ctx.work, 'load', count, PRODUCERS);
      warm = await writeEventFiles(ctx.work, 'warm', count / 10, PRODUCERS);
    },
    warmUp: async (ctx) => void (await run(ctx, warm)),
    paired: (ctx) => run(ctx, load),
    ours: () => Promise.reject(new Error('archive_under_load measures both sides in one run')),
    baseline: () => Promise.reject(new Error('archive_under_load measures both sides in one run')),
    async teardown(ctx) {
      await deleteBucket(ctx, bucket).catch((error: unknown) =>
        ctx.log(`could not delete bucket ${bucket}: ${(error as Error).message}`),
      );
      for (const file of [...load.files, ...warm.files]) await rm(file, { force: true });
    },
  };
}

export const figures: Figure[] = [archiveUnderLoad()];
